// Token counts on the hot path (usage estimates, count_tokens) must not stall the event loop: BPE is
// quadratic in a run without whitespace, and CJK text or base64 is exactly that.
import { describe, expect, it } from 'vitest';
import { countTextTokens, loadTokenizer } from '../../src/core/tokens.js';

describe('token counts', () => {
  it('counts 130 KB of Chinese (one run without whitespace) in well under a second, with the same count', async () => {
    await loadTokenizer();
    const text = '你'.repeat(43_000);
    const started = performance.now();
    const tokens = await countTextTokens(text);
    const ms = performance.now() - started;
    expect(tokens).toBe(43_000);
    // Unsliced this took 11 s on the CI machine; sliced, ~15 ms. The bound leaves room for a busy machine.
    expect(ms).toBeLessThan(3000);
  });

  it('counts ordinary text exactly as before (slices only touch runs of 256+ characters)', async () => {
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    expect(await countTextTokens(prose)).toBe(countTokens(prose));
    const mixed = `${prose}${'x'.repeat(1000)} tail`;
    expect(Math.abs((await countTextTokens(mixed)) - countTokens(mixed))).toBeLessThanOrEqual(5);
  });
});
