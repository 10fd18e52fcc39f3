import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, type Part } from '../../src/providers/gemini-web/frames.js';

/** A framed body as Google writes it (length in UTF-16 units, counted with the two newlines). */
function encodeFrame(value: unknown): string {
  const json = JSON.stringify(value);
  return `${json.length + 2}\n${json}\n`;
}
import { readStreamPart } from '../../src/providers/gemini-web/parse.js';
import { cleanText, SnapshotReconciler } from '../../src/providers/gemini-web/reconcile.js';

// The successful stream of protocol notes §7.4, with its real framing (lengths in UTF-16 units + 2).
const RECORDED = [
  ")]}'\n\n",
  '103\n[["wrb.fr",null,"[null,[null,\\"r_8a7b6c5d4e3f2a10\\"],{\\"18\\":\\"r_8a7b6c5d4e3f2a10\\",\\"44\\":false}]"]]\n',
  '334\n[["wrb.fr",null,"[null,[\\"c_3f2a9b1c7d4e5f60\\",\\"r_8a7b6c5d4e3f2a10\\"],null,null,[[\\"rc_1a2b3c4d5e6f7081\\",[\\"\\"],null,null,null,null,null,null,[1],\\"en\\",null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,[[\\"**Considering** the greeting\\"]]]]]"]]\n',
  '346\n[["wrb.fr",null,"[null,[\\"c_3f2a9b1c7d4e5f60\\",\\"r_8a7b6c5d4e3f2a10\\"],null,null,[[\\"rc_1a2b3c4d5e6f7081\\",[\\"Hello\\"],null,null,null,null,null,null,[1],\\"en\\",null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,[[\\"**Considering** the greeting. Done.\\"]]]]]"]]\n',
  '553\n[["wrb.fr",null,"[null,[\\"c_3f2a9b1c7d4e5f60\\",\\"r_8a7b6c5d4e3f2a10\\"],null,null,[[\\"rc_1a2b3c4d5e6f7081\\",[\\"Hello! How can I help 😀?\\"],null,null,null,null,null,null,[2],\\"en\\",null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,[[\\"**Considering** the greeting. Done.\\"]]]],null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,\\"!Cj0KGnByb21wdF9jb250ZXh0X3Rva2Vu\\",null,[[[null,null,null,[1764201600,250000000]]]]]"]]\n',
  '121\n[["wrb.fr",null,"[null,[\\"c_3f2a9b1c7d4e5f60\\",\\"r_8a7b6c5d4e3f2a10\\"],{\\"11\\":[\\"Friendly greeting\\"],\\"44\\":true}]"]]\n',
  '58\n[["di",312],["af.httprm",311,"-5523452188021934561",18]]\n',
  '26\n[["e",4,null,null,1537]]\n',
].join('');

function decodeAll(chunks: Array<Buffer | string>): Part[] {
  const decoder = new FrameDecoder();
  return [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
}

describe('frame decoder', () => {
  it('decodes the recorded stream into its envelopes', () => {
    const parts = decodeAll([RECORDED]);
    expect(parts.map((p) => p[0])).toEqual(['wrb.fr', 'wrb.fr', 'wrb.fr', 'wrb.fr', 'wrb.fr', 'di', 'af.httprm', 'e']);
    const final = readStreamPart(parts[3]!);
    expect(final.kind === 'frame' && final.frame).toMatchObject({
      cid: 'c_3f2a9b1c7d4e5f60',
      rid: 'r_8a7b6c5d4e3f2a10',
      context: '!Cj0KGnByb21wdF9jb250ZXh0X3Rva2Vu',
      candidates: [{ rcid: 'rc_1a2b3c4d5e6f7081', text: 'Hello! How can I help 😀?', thoughts: '**Considering** the greeting. Done.', final: true }],
    });
  });

  it('the recorded lengths are UTF-16 units + 2, as the encoder writes them', () => {
    const json = '[["e",4,null,null,1537]]';
    expect(encodeFrame(JSON.parse(json))).toBe(`26\n${json}\n`);
    const emoji = { t: '😀' };
    expect(encodeFrame(emoji).startsWith(`${JSON.stringify(emoji).length + 2}\n`)).toBe(true);
  });

  it('gives the same envelopes for any split of the bytes, inside multi-byte characters too', () => {
    const bytes = Buffer.from(RECORDED, 'utf8');
    const expected = decodeAll([bytes]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        expect(decodeAll(points.slice(1).map((end, i) => bytes.subarray(points[i]!, end)))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same text and thought deltas for any chunking of a recorded stream', () => {
    const deltasOf = (chunks: Buffer[]) => {
      const text = new SnapshotReconciler();
      const thoughts = new SnapshotReconciler();
      const out: string[] = [];
      for (const part of decodeAll(chunks)) {
        const read = readStreamPart(part);
        const c = read.kind === 'frame' ? read.frame.candidates[0] : undefined;
        if (!c) continue;
        out.push(`T:${thoughts.push(c.thoughts, c.final)}`, `A:${text.push(c.text, c.final)}`);
      }
      return out.filter((d) => d.length > 2).join('|');
    };
    const bytes = Buffer.from(RECORDED, 'utf8');
    const expected = deltasOf([bytes]);
    expect(expected).toContain('Hello! How can I help 😀?'.slice(-3));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        expect(deltasOf(points.slice(1).map((end, i) => bytes.subarray(points[i]!, end)))).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('tolerates lengths off by one and frames glued without a newline', () => {
    const a = '[["e",1]]';
    const b = '[["e",2]]';
    expect(decodeAll([`)]}'\n\n${a.length + 3}\n${a}\n${b.length + 2}\n${b}\n`]).map((p) => p[1])).toEqual([1, 2]);
    expect(decodeAll([`)]}'\n\n${a.length + 1}\n${a}${b.length + 2}\n${b}\n`]).map((p) => p[1])).toEqual([1, 2]);
  });
});

/** Feed snapshots; return the deltas and their concatenation. */
function play(snapshots: Array<{ text: string; final?: boolean; card?: string }>): { deltas: string[]; joined: string } {
  const reconciler = new SnapshotReconciler();
  const deltas = snapshots.map((s) => reconciler.push(s.text, s.final ?? false, s.card));
  return { deltas, joined: deltas.join('') };
}

describe('snapshot reconciler', () => {
  it('emits growing text as it arrives, holding back only a short tail', () => {
    const { deltas, joined } = play([{ text: 'Hello there, how' }, { text: 'Hello there, how are you today?' }, { text: 'Hello there, how are you today? Fine.', final: true }]);
    expect(deltas[0]!.length).toBeGreaterThan(8);
    expect(joined).toBe('Hello there, how are you today? Fine.');
  });

  it('survives a provisional closing fence and escape drift (no repeated code blocks)', () => {
    const snapshots = [
      { text: 'Here:\n```js\nconst a = 1;\n```' },
      { text: 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```' },
      { text: 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```\nUse \\*' },
      { text: 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```\nUse *both* of them' },
      { text: 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```\nUse *both* of them.', final: true },
    ];
    const { joined } = play(snapshots);
    expect(joined).toBe('Here:\n```js\nconst a = 1;\nconst b = 2;\n```\nUse *both* of them.');
    expect(joined.match(/```/g)).toHaveLength(2);
  });

  it('strips placeholders, FollowUp tags and HTML entities even when they arrive in pieces', () => {
    const { joined } = play([
      { text: 'Your image: http://googleuser' },
      { text: 'Your image: http://googleusercontent.com/image_generation_content/0\n\nDone &am' },
      { text: 'Your image: http://googleusercontent.com/image_generation_content/0\n\nDone &amp; dusted <Follo' },
      { text: 'Your image: http://googleusercontent.com/image_generation_content/0\n\nDone &amp; dusted <FollowUp label="More" query="more"/>', final: true },
    ]);
    expect(joined).toBe('Your image: Done & dusted ');
  });

  it('replaces a card_content placeholder with the card text', () => {
    expect(cleanText('http://googleusercontent.com/card_content/0', 'The real answer')).toBe('The real answer');
    expect(play([{ text: 'http://googleusercontent.com/card_content/0', final: true, card: 'Card text' }]).joined).toBe('Card text');
  });

  it('never splits a surrogate pair', () => {
    const { deltas } = play([{ text: 'ok 😀😀😀😀😀😀' }, { text: 'ok 😀😀😀😀😀😀!', final: true }]);
    for (const d of deltas) expect(d).toBe(Buffer.from(d, 'utf8').toString('utf8'));
    expect(deltas.join('')).toBe('ok 😀😀😀😀😀😀!');
  });

  it('property: for any growth pattern with drifting tails, the deltas join to the final text', () => {
    const word = fc.constantFrom('alpha ', 'beta ', '`code` ', '**bold** ', '_x_ ', 'ünïcödé ', '😀 ', '\n', 'a & b ', '[link](u) ');
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }), (words, drifts) => {
        const final = words.join('');
        const snapshots: Array<{ text: string; final?: boolean }> = [];
        for (let i = 1; i < words.length; i++) {
          const prefix = words.slice(0, i).join('');
          // Gemini's tail rewrites: a provisional fence or a backslash escape that the next snapshot changes.
          const drift = ['', '\n```', '\\*', '\\_'][drifts[i]!]!;
          snapshots.push({ text: prefix + drift });
        }
        snapshots.push({ text: final, final: true });
        expect(play(snapshots).joined).toBe(cleanText(final));
      }),
      { numRuns: 500 },
    );
  });
});
