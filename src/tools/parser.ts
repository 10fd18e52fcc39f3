// A streaming state machine over answer text: visible text flows out at once; a line that may
// still become a `toolcall` fence opener is held back only while it may; a confirmed block is
// hidden and handed out whole as a call. Backslash-escaped fences and tags (Gemini escapes
// Markdown) are recognized too.

export type Piece = { type: 'text'; text: string } | { type: 'call'; raw: string; closed: boolean };

const TAGS = ['toolcall', 'tool_call', 'tool-call'];

/** Backslashes, leading indentation (up to 3 spaces) and case do not matter for fences. */
function normalizeFenceLine(line: string): string {
  return line.replace(/^ {0,3}/, '').replace(/\\/g, '').toLowerCase().trimEnd();
}

function isOpener(line: string): boolean {
  const n = normalizeFenceLine(line);
  const m = /^`{3,}\s*([a-z_-]+)\s*$/.exec(n);
  return m !== null && TAGS.includes(m[1]!);
}

function isCloser(line: string): boolean {
  return /^`{3,}$/.test(normalizeFenceLine(line));
}

/** Could this incomplete line still turn into an opener? */
function mayBecomeOpener(partial: string): boolean {
  if (/^ {4,}/.test(partial)) return false;
  const n = partial.replace(/^ {0,3}/, '').replace(/\\/g, '').toLowerCase();
  if (n === '') return true;
  const m = /^(`{0,})(\s*)([a-z_-]*)$/.exec(n);
  if (!m) return false;
  const [, ticks, , tag] = m;
  if (ticks!.length < 3) return tag === '' && ticks!.length === n.length;
  return tag === '' || TAGS.some((t) => t.startsWith(tag!));
}

export class ToolStreamParser {
  private mode: 'text' | 'call' = 'text';
  /** Text of the current line not yet decided (text mode). */
  private line = '';
  /** The current line was already released as text: it cannot be an opener any more. */
  private lineReleased = false;
  private call = '';

  push(chunk: string): Piece[] {
    const out: Piece[] = [];
    let text = '';
    const flushText = () => {
      if (text) out.push({ type: 'text', text });
      text = '';
    };
    for (let i = 0; i < chunk.length; ) {
      const newline = chunk.indexOf('\n', i);
      const piece = newline < 0 ? chunk.slice(i) : chunk.slice(i, newline);
      i = newline < 0 ? chunk.length : newline + 1;
      const complete = newline >= 0;

      if (this.mode === 'call') {
        this.line += piece;
        if (!complete) continue;
        if (isCloser(this.line)) {
          out.push({ type: 'call', raw: this.call, closed: true });
          this.mode = 'text';
          this.call = '';
        } else {
          this.call += `${this.line}\n`;
        }
        this.line = '';
        continue;
      }

      // Text mode.
      if (this.lineReleased) {
        text += piece + (complete ? '\n' : '');
        if (complete) this.lineReleased = false;
        continue;
      }
      this.line += piece;
      if (complete) {
        if (isOpener(this.line)) {
          flushText();
          this.mode = 'call';
        } else {
          text += `${this.line}\n`;
        }
        this.line = '';
      } else if (!mayBecomeOpener(this.line)) {
        text += this.line;
        this.line = '';
        this.lineReleased = true;
      }
    }
    flushText();
    return out;
  }

  /** End of the answer: an unterminated block is still a call; held text is released. */
  end(): Piece[] {
    const out: Piece[] = [];
    if (this.mode === 'call') {
      const raw = this.call + (this.line && !isCloser(this.line) ? this.line : '');
      if (raw.trim()) out.push({ type: 'call', raw, closed: false });
    } else if (this.line) {
      out.push({ type: 'text', text: this.line });
    }
    this.mode = 'text';
    this.line = '';
    this.call = '';
    this.lineReleased = false;
    return out;
  }
}
