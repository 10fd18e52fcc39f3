// Token estimate without a tokenizer: one pass over the text's character codes, counting the
// shapes o200k's pre-tokenizer cuts text into (letter runs split at a lower→upper case change, digit
// groups of up to three, punctuation runs, newline and indentation runs, CJK and other non-ASCII
// characters), then a weighted sum. The weights are fitted offline against exact o200k counts by
// scripts/fit-token-estimate.ts on the samples in test/fixtures/tokens; test/core/token-estimate.test.ts
// holds the error bounds. Usage for upstreams that report none is computed with this, so the 67 MiB
// BPE tables are not resident in the gateway for a figure that is itself an approximation of
// another vendor's tokenizer.

/** Feature slots, in the order of COEFFICIENTS. */
export const FEATURES = [
  'words', // ASCII letter runs, split where a lower-case letter is followed by an upper-case one
  'wordChars5', // letters beyond the 5th in each such run (long words, identifiers: more than one token)
  'digitGroups', // digit runs counted in groups of three (o200k splits numbers that way)
  'punctChars', // ASCII punctuation and symbols
  'punctRuns', // runs of them (a run is one pre-token, merged by BPE)
  'newlineRuns', // runs of line breaks (with the blanks between them)
  'blankRuns', // runs of 2+ spaces or tabs (indentation)
  'cjkChars', // CJK ideographs, kana, Hangul, full-width forms
  'otherChars', // any other non-ASCII code unit (accented letters, Cyrillic, emoji halves)
  'randomChars', // characters of letter-digit runs of 16+ (hashes, base64, ids): few merges apply
  'cjkRuns', // runs of CJK characters (a run's edges rarely merge with what surrounds it)
  'prefixPunct', // single punctuation marks that prefix a word ("foo.bar", "(x": o200k's word pre-token takes one)
] as const;

/**
 * Fitted by `npm run fit:tokens` (scripts/fit-token-estimate.ts): least squares on the relative
 * error over the sample chunks. Regenerate after changing the features.
 */
export const COEFFICIENTS: readonly number[] = [1.025, 0.039, 1.04, -0.045, 1.141, 0.158, 0.615, 0.663, 1.489, 0.129, 1.299, -0.774];

const N = FEATURES.length;
const scratch = new Float64Array(N);

// Character classes for ASCII, in one lookup: 0 other/control, 1 lower, 2 upper, 3 digit, 4 punct,
// 5 space or tab, 6 line break.
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  CLASS[c] =
    c >= 97 && c <= 122 ? 1
    : c >= 65 && c <= 90 ? 2
    : c >= 48 && c <= 57 ? 3
    : c === 32 || c === 9 ? 5
    : c === 10 || c === 13 ? 6
    : c > 32 && c < 127 ? 4
    : 0;
}

function isCjk(c: number): boolean {
  return (
    (c >= 0x3040 && c <= 0x30ff) || // kana
    (c >= 0x3400 && c <= 0x4dbf) || // CJK extension A
    (c >= 0x4e00 && c <= 0x9fff) || // CJK unified ideographs
    (c >= 0xac00 && c <= 0xd7af) || // Hangul syllables
    (c >= 0xf900 && c <= 0xfaff) || // compatibility ideographs
    (c >= 0xff00 && c <= 0xffef) || // full-width forms
    (c >= 0x3000 && c <= 0x303f) // CJK punctuation
  );
}

/** The feature counts of `text` into `out` (length FEATURES.length); no allocation. */
export function tokenFeatures(text: string, out: Float64Array): Float64Array {
  out.fill(0);
  let word = 0; // length of the current letter run segment
  let digits = 0;
  let punct = 0;
  let punctAfterBlank = false; // the current punctuation run follows a space (then no word takes it)
  let blanks = 0;
  let newline = false;
  let alnum = 0; // length of the current run of letters and digits
  let cjk = false; // the previous character was CJK
  let prev = 0; // class of the previous character
  const endWord = () => {
    if (word > 0) {
      out[0]!++;
      if (word > 5) out[1]! += word - 5;
      word = 0;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? CLASS[c]! : 7;
    if (cls === 1 || cls === 2) {
      // A capital after a lower-case letter starts a new pre-token ("countTokens" is two).
      if (cls === 2 && prev === 1) endWord();
      word++;
    } else endWord();
    if (cls >= 1 && cls <= 3) alnum++;
    else {
      if (alnum >= 16) out[9]! += alnum;
      alnum = 0;
    }
    if (cls === 3) digits++;
    else if (digits > 0) {
      out[2]! += Math.ceil(digits / 3);
      digits = 0;
    }
    if (cls === 4) {
      if (punct === 0) {
        out[4]!++;
        punctAfterBlank = prev === 5;
      }
      punct++;
      out[3]!++;
    } else {
      if (punct === 1 && !punctAfterBlank && (cls === 1 || cls === 2)) out[11]!++;
      punct = 0;
    }
    if (cls === 5) blanks++;
    else {
      // Blanks before a line break join the newline run; elsewhere 2+ are a pre-token of their own.
      if (blanks >= 2 && cls !== 6) out[6]!++;
      blanks = 0;
    }
    if (cls === 6) {
      if (!newline) out[5]!++;
      newline = true;
    } else if (cls !== 5) newline = false;
    const isCjkChar = cls === 7 && isCjk(c);
    if (isCjkChar) {
      out[7]!++;
      if (!cjk) out[10]!++;
    } else if (cls === 7) out[8]!++;
    cjk = isCjkChar;
    prev = cls;
  }
  endWord();
  if (digits > 0) out[2]! += Math.ceil(digits / 3);
  if (blanks >= 2) out[6]!++;
  if (alnum >= 16) out[9]! += alnum;
  return out;
}

/** Estimated o200k token count of `text`; 0 for an empty string. */
export function estimateTextTokens(text: string): number {
  if (!text) return 0;
  tokenFeatures(text, scratch);
  let sum = 0;
  for (let i = 0; i < N; i++) sum += scratch[i]! * COEFFICIENTS[i]!;
  return Math.max(1, Math.round(sum));
}
