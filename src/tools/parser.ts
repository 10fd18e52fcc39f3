// A streaming state machine over answer text: visible text flows out at once; only a tail that
// may still become a `toolcall` fence opener is held back, and only while it may; a confirmed
// block is hidden and handed out whole as a call. Openers are recognised at the start of a line
// or after text on the same line, and with Markdown backslash escapes (Gemini escapes Markdown).

export type Piece = { type: 'text'; text: string } | { type: 'call'; raw: string; closed: boolean };

const TAGS = ['toolcall', 'tool_call', 'tool-call'];

/** An opener at the end of a complete line: text before it (visible) and the fence. */
const OPENER_AT_END = /(?:\\?`){3,}[ \t]*tool(?:\\?[_-])?call[ \t]*$/i;

function isCloser(line: string): boolean {
  return /^`{3,}$/.test(line.replace(/^ {0,3}/, '').replace(/\\/g, '').trimEnd());
}

/** Could `tail` (backticks, then maybe a tag being typed) still become an opener? */
function mayBecomeOpener(tail: string): boolean {
  const m = /^(`+)([ \t]*)([a-z_-]*)$/.exec(tail.replace(/\\/g, '').toLowerCase());
  if (!m) return false;
  const [, ticks, space, tag] = m;
  if (ticks!.length < 3) return space === '' && tag === '';
  return tag === '' || TAGS.some((t) => t.startsWith(tag!));
}

/** Start of the trailing run that may still become an opener (line.length if none). */
function heldStart(line: string): number {
  const m = /(?:\\?`)+[ \t]*[a-z\\_-]*$/i.exec(line);
  return m && mayBecomeOpener(m[0]) ? m.index : line.length;
}

export class ToolStreamParser {
  private mode: 'text' | 'call' = 'text';
  /** Text mode: the held tail of the current line. Call mode: the current line so far. */
  private line = '';
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
      const complete = newline >= 0;
      this.line += complete ? chunk.slice(i, newline) : chunk.slice(i);
      i = complete ? newline + 1 : chunk.length;

      if (this.mode === 'call') {
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

      if (complete) {
        const opener = OPENER_AT_END.exec(this.line);
        if (opener && !this.line.slice(0, opener.index).endsWith('`')) {
          text += this.line.slice(0, opener.index);
          flushText();
          this.mode = 'call';
        } else {
          text += `${this.line}\n`;
        }
        this.line = '';
      } else {
        // Release everything but a tail that may still become an opener.
        const hold = heldStart(this.line);
        text += this.line.slice(0, hold);
        this.line = this.line.slice(hold);
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
    return out;
  }
}
