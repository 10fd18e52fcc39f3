// Canonical, protocol-free request and event types. Every inbound protocol decodes into
// ChatRequest and every provider emits ChatEvent; nothing here knows a wire format.
// core/ imports nothing else of ours (see docs/ARCHITECTURE.md).

import type { GatewayError } from './gateway-error.js';

/** `system` here = a system message in the middle of the conversation (Claude Code sends them). */
export type Role = 'user' | 'assistant' | 'tool' | 'system';

export interface TextPart {
  type: 'text';
  text: string;
}

/** An image the client sent: inline bytes (base64, no data: prefix) or a URL to fetch. */
export interface ImagePart {
  type: 'image';
  mimeType?: string;
  data?: string;
  url?: string;
}

/** A non-image attachment (PDF, text file). Same source rules as images. */
export interface FilePart {
  type: 'file';
  mimeType?: string;
  filename?: string;
  data?: string;
  url?: string;
}

/** A tool call the assistant made earlier in the conversation. */
export interface ToolCallPart {
  type: 'tool_call';
  id: string;
  name: string;
  /** Arguments as a JSON text, exactly as produced (may be invalid JSON from a model); for
   *  `custom` tools the raw text input. */
  arguments: string;
  /** 'custom' tools (Codex freeform apply_patch) carry raw text input instead of JSON. */
  kind?: 'function' | 'custom';
}

/** The result of a tool call, sent back by the client. */
export interface ToolResultPart {
  type: 'tool_result';
  callId: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
}

/** Thinking the assistant produced earlier; signature/encrypted blobs are echoed opaquely. */
export interface ThinkingPart {
  type: 'thinking';
  text: string;
  signature?: string;
  redacted?: boolean;
}

export type ContentPart = TextPart | ImagePart | FilePart | ToolCallPart | ToolResultPart | ThinkingPart;

export interface Message {
  role: Role;
  content: ContentPart[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments (function tools). */
  parameters?: Record<string, unknown>;
  /** 'custom' = freeform text input (Codex apply_patch); upstreams see a one-string-argument function. */
  kind?: 'function' | 'custom';
  /** For custom tools: the grammar their input must follow (Codex sends a lark grammar). */
  grammar?: { syntax: string; definition: string };
}

export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name?: string; schema: Record<string, unknown>; strict?: boolean };

export interface ReasoningOptions {
  effort?: 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
  budgetTokens?: number;
  /** false = the client asked for no thinking output. */
  enabled?: boolean;
}

export interface ChatRequest {
  /** The model name the client asked for (before routing). */
  model: string;
  /** System / developer instructions in order. Mid-conversation system messages stay in `messages`. */
  system: TextPart[];
  messages: Message[];
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  parallelToolCalls?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  stream: boolean;
  reasoning?: ReasoningOptions;
  responseFormat?: ResponseFormat;
  /** A key the client sends to group turns of one conversation (Codex prompt_cache_key, Claude Code session). */
  conversationKey?: string;
  /** The client offered a hosted web search tool (Anthropic `web_search_*`, OpenAI `web_search`). */
  webSearch?: WebSearchOptions;
  /** The client wants generated images as data (Chat `modalities: ["text","image"]`, the Responses
   *  `image_generation` tool): providers that can fill `data` (base64) on `image` events do. */
  imageOutput?: boolean;
  /** A turn of the Images API (generate or edit an image): providers with an image tool select it. */
  imageGeneration?: boolean;
}

/** A hosted web search the client offered: never a function tool, served only by upstreams that can search. */
export interface WebSearchOptions {
  /** The client requires a search (tool_choice names the search tool). */
  forced?: boolean;
  maxUses?: number;
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/** A page a web search found. */
export interface WebSource {
  url: string;
  title: string;
  snippet?: string;
  siteName?: string;
}

/** A source a span of the answer text is based on (`citedText` = that span). */
export interface Citation {
  url: string;
  title: string;
  citedText: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'stop_sequence';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens?: number;
  cachedInputTokens?: number;
}

/**
 * The event stream a provider produces. Tool calls arrive as start -> args deltas -> end with a
 * stable index per response; text and thinking arrive as deltas. A web search the upstream ran
 * comes as one `web-search` event before the text it informed; a text delta with `citations` is one
 * whole cited span (its text is what the sources back). An `image` carries `data` (base64) only
 * when the request asked for `imageOutput`; otherwise clients see it as a Markdown link. A stream ends with exactly one
 * `finish` or one `error`.
 */
export type ChatEvent =
  | { type: 'text-delta'; text: string; citations?: Citation[]; /** `text` as the JSON string literal JSON.stringify gives, when the upstream sent exactly that (encoders reuse it). */ json?: string }
  | { type: 'web-search'; id: string; query: string; sources: WebSource[] }
  | { type: 'thinking-delta'; text: string }
  | { type: 'thinking-signature'; signature: string }
  | { type: 'tool-call-start'; index: number; id: string; name: string; kind?: 'function' | 'custom' }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  | { type: 'tool-call-end'; index: number }
  | { type: 'image'; url: string; mimeType?: string; alt?: string; data?: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string }
  | { type: 'error'; error: GatewayError };

export interface ModelInfo {
  id: string;
  /** Provider id that serves it (OpenAI `owned_by`). */
  provider: string;
  displayName?: string;
  createdAt?: number;
}

/** An image an answer produced, as the Markdown text every client protocol shows it as. */
export function imageMarkdown(image: { url: string; alt?: string }): string {
  return `![${image.alt ?? 'image'}](${image.url})`;
}
