// ChatRequest -> the text Gemini web receives. Gemini web has one message box and no system-prompt
// field, so a stateless client's history is flattened into a labelled transcript:
//
//   [System]
//   <system text>
//
//   [User]
//   <text>
//
//   [Assistant]
//   <text>
//
// A lone user message (no system, no history) goes as it is. On a conversation-reuse hit only the
// new turns are rendered. Images and files become attachments; their place is marked in the text.
// Tool calls and results never arrive here: Gemini has no native tools, so tool emulation
// (src/tools/) has already rendered them as text in its own protocol, and tool results as user turns.
// The transcript also comes split in two: the history (up to the last assistant turn) and the
// newest turn, which must always travel in the message box (prompt-budget.ts).

import type { ContentPart, Message, TextPart } from '../../core/types.js';

export interface Rendered {
  prompt: string;
  /** The sections before the newest turn (system and earlier turns); '' when there are none. */
  history: string;
  /** The newest turn: everything after the last assistant message. */
  newest: string;
  /** Attachments in order of appearance (uploaded by the caller). */
  attachments: Array<Extract<ContentPart, { type: 'image' | 'file' }>>;
}

const LABEL: Record<Message['role'], string> = { user: 'User', assistant: 'Assistant', system: 'System', tool: 'Tool' };

function renderParts(parts: ContentPart[], attachments: Rendered['attachments']): string {
  const out: string[] = [];
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        out.push(part.text);
        break;
      case 'image':
      case 'file':
        attachments.push(part);
        out.push(`[attachment ${attachments.length}${part.type === 'file' && part.filename ? `: ${part.filename}` : ''}]`);
        break;
      default:
        break; // earlier thinking is not replayed; tool parts were rendered as text upstream
    }
  }
  return out.join('\n');
}

export function renderTranscript(system: TextPart[], messages: Message[]): Rendered {
  const attachments: Rendered['attachments'] = [];
  if (system.length === 0 && messages.length === 1 && messages[0]!.role === 'user') {
    const prompt = renderParts(messages[0]!.content, attachments);
    return { prompt, history: '', newest: prompt, attachments };
  }
  const history: string[] = [];
  const newest: string[] = [];
  if (system.length > 0) history.push(`[System]\n${system.map((s) => s.text).join('\n\n')}`);
  let lastAssistant = -1;
  messages.forEach((m, i) => m.role === 'assistant' && (lastAssistant = i));
  messages.forEach((message, i) => (i <= lastAssistant ? history : newest).push(`[${LABEL[message.role]}]\n${renderParts(message.content, attachments)}`));
  return { prompt: [...history, ...newest].join('\n\n'), history: history.join('\n\n'), newest: newest.join('\n\n'), attachments };
}
