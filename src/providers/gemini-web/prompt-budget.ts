// How a transcript fits what Gemini web reads. Google silently cuts a prompt past about 130,000
// UTF-8 bytes from the end (the newest message is what gets lost), and the model reads about
// 160 KB of attachments per turn. So: a prompt within `max_prompt_bytes` goes inline; otherwise the
// newest turn stays inline and the older history goes up as message.txt; history too long for one
// file is replayed into the Gemini chat in parts first; past `history_parts_max`, the client is told
// the prompt is too long in the words agents act on (they compact and retry).

import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { Rendered } from './transcript.js';

type GeminiConfig = GatewayConfig['gemini'];

export const FILE_NOTE = 'The conversation so far is in the attached file message.txt. Read it, then reply as the assistant to this newest message:';
export const PARTS_NOTE = 'The conversation so far was given in the attached files of the previous messages. Reply as the assistant to this newest message:';

export interface PromptPlan {
  /** The message box text. */
  inline: string;
  /** Older history as message.txt on this turn. */
  file?: string;
  /** Older history replayed first, one acknowledged turn per part. */
  parts?: string[];
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

export function planPrompt(rendered: Rendered, config: GeminiConfig): PromptPlan {
  // The deprecated character budget, when a config still sets it, is taken as the byte budget.
  const budget = config.max_prompt_chars ?? config.max_prompt_bytes;
  if (bytes(rendered.prompt) <= budget) return { inline: rendered.prompt };
  const fileLimit = config.max_history_file_bytes;
  const tooLong = () => promptTooLong(bytes(rendered.prompt), budget + config.history_parts_max * fileLimit);
  if (!rendered.history) throw tooLong();
  const historyBytes = bytes(rendered.history);
  if (historyBytes <= fileLimit) {
    const inline = `${FILE_NOTE}\n\n${rendered.newest}`;
    if (bytes(inline) > budget) throw tooLong();
    return { inline, file: rendered.history };
  }
  const inline = `${PARTS_NOTE}\n\n${rendered.newest}`;
  if (bytes(inline) > budget) throw tooLong();
  const parts = splitByBytes(rendered.history, fileLimit);
  if (parts.length > config.history_parts_max) throw tooLong();
  return { inline, parts };
}

/** The 400 both agents act on: Claude Code parses "prompt is too long: N tokens > M", Codex the code. */
export function promptTooLong(promptBytes: number, maxBytes: number): GatewayError {
  const tokens = Math.ceil(promptBytes / 4);
  const max = Math.floor(maxBytes / 4);
  return new GatewayError('invalid_request', `prompt is too long: ${tokens} tokens > ${max} maximum (Gemini web reads about ${maxBytes} bytes of conversation; compact it and try again)`, {
    code: 'context_length_exceeded',
    param: 'messages',
  });
}

/** Pieces of at most `limit` UTF-8 bytes, cut between transcript sections where possible. */
export function splitByBytes(text: string, limit: number): string[] {
  const sections = text.split(/\n\n(?=\[(?:System|User|Assistant|Tool)\]\n)/);
  const out: string[] = [];
  let current = '';
  const flush = () => {
    if (current) out.push(current);
    current = '';
  };
  for (const section of sections) {
    const joined = current ? `${current}\n\n${section}` : section;
    if (bytes(joined) <= limit) {
      current = joined;
      continue;
    }
    flush();
    if (bytes(section) <= limit) {
      current = section;
      continue;
    }
    // One section larger than a part: cut it by bytes (on character boundaries); the last piece
    // stays open so the next sections can join it.
    let rest = Buffer.from(section, 'utf8');
    while (rest.length > limit) {
      let end = limit;
      while ((rest[end]! & 0xc0) === 0x80) end--;
      out.push(rest.subarray(0, end).toString('utf8'));
      rest = rest.subarray(end);
    }
    current = rest.toString('utf8');
  }
  flush();
  return out;
}
