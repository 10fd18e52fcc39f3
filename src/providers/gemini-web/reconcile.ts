// Cumulative snapshots -> deltas. Gemini sends the whole text so far in every frame and rewrites
// the tail while streaming (a provisional closing code fence, a temporary backslash escape), so a
// naive `next.slice(prev.length)` duplicates or garbles text. While a candidate is not final we
// hold back the volatile tail, and only ever emit a prefix of what the final text will be: the
// concatenation of all deltas equals the final cleaned text.

const PLACEHOLDER = /http:\/\/googleusercontent\.com\/\w+\/\d+\n*/g;
const CARD = /^http:\/\/googleusercontent\.com\/card_content\/\d+$/;
const FOLLOW_UP = /<FollowUp\b[^>]*?\/>/g;
/** Inline `[cite: 1, 2]` / `[cite_start]` markers of search answers (layout B, search.ts). */
const CITE = /[ \t]?\[cite(?:_start|:\s*[\d,\s]*)\]/g;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

function unescapeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (match, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    }
    return NAMED[body.toLowerCase()] ?? match;
  });
}

/** The clean-up the answer always gets: card substitution, placeholders, FollowUp tags, entities, cite markers. */
export function cleanText(raw: string, cardText?: string): string {
  return stripCites(cleanKeepingCites(raw, cardText));
}

/** cleanText without removing cite markers (search.ts reads them to place citations). */
export function cleanKeepingCites(raw: string, cardText?: string): string {
  let text = cardText && CARD.test(raw.trim()) ? cardText : raw;
  if (text.includes('googleusercontent.com/')) text = text.replace(PLACEHOLDER, '');
  if (text.includes('<FollowUp')) text = text.replace(FOLLOW_UP, '');
  return unescapeEntities(text);
}

function stripCites(text: string): string {
  return text.includes('[cite') ? text.replace(CITE, '') : text;
}

/** Tails that may still change or vanish in the next snapshot; never emitted before the end. */
const VOLATILE_TAILS: RegExp[] = [
  /\n`{3,}\s*$/, // provisional closing fence
  /\\+[`*_~[\]]?$/, // a backslash escape being typed or about to change
  /&[#a-z0-9]*$/i, // an HTML entity not complete yet
  /<FollowUp\b[^>]*$/, // a FollowUp tag still arriving
  /http:\/\/googleusercontent\.com\/\S*$/, // a placeholder URL still arriving
  /[ \t]?\[cite[_:\w\d,\s]{0,40}$/, // a cite marker still arriving
];

/** Markers that may be arriving piece by piece: a tail that is their prefix is held back. */
const PARTIAL_MARKERS = ['<FollowUp', 'http://googleusercontent.com/', '[cite'];

/** Characters held back on top of the known volatile tails, against rewrites we have not seen. */
const SAFETY_MARGIN = 4;

/** Start of the longest tail of `text` that is a proper prefix of `marker` (text.length if none). */
function partialMarkerStart(text: string, marker: string): number {
  for (let size = Math.min(marker.length - 1, text.length); size > 0; size--) {
    if (text.endsWith(marker.slice(0, size))) return text.length - size;
  }
  return text.length;
}

function stablePrefix(text: string): string {
  let end = text.length;
  for (const pattern of VOLATILE_TAILS) {
    const match = pattern.exec(text.slice(0, end));
    if (match) end = match.index;
  }
  for (const marker of PARTIAL_MARKERS) end = Math.min(end, partialMarkerStart(text.slice(0, end), marker));
  end = Math.max(0, end - SAFETY_MARGIN);
  // Never split a surrogate pair.
  if (end > 0 && end < text.length) {
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
  }
  return text.slice(0, end);
}

export class SnapshotReconciler {
  /** Everything emitted so far (always a prefix of the final text, unless Google rewrote deep). */
  emitted = '';
  /** How many times a snapshot contradicted text already emitted (logged by the caller). */
  divergences = 0;

  /** Next snapshot (raw, cumulative) -> the new text to emit ('' for nothing yet). */
  push(raw: string, final: boolean, cardText?: string): string {
    const clean = cleanText(raw, cardText);
    const target = final ? clean : stablePrefix(clean);
    if (target.startsWith(this.emitted)) {
      const delta = target.slice(this.emitted.length);
      this.emitted = target;
      return delta;
    }
    if (!final) return ''; // hold until the text agrees with what was sent again
    // Final text contradicts what was emitted: emit what follows the common prefix.
    this.divergences++;
    let common = 0;
    while (common < clean.length && clean[common] === this.emitted[common]) common++;
    const delta = clean.slice(common);
    this.emitted = clean;
    return delta;
  }
}
