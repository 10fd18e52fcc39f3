// Web search on Gemini web (shared/docs/gemini-web-2026h2.md §4): whether the model searched, the
// sources it used (two layouts, both accepted), and the answer text split into plain and cited
// spans. Gemini decides to search by itself; a client that forces search gets one line in the prompt.
//
// Layout A: cand[2] = [null, [chunk, ...]] in the final frame; chunk[0] = [quote, null, null,
//   [[byteStart, byteEnd], [charStart, charEnd]]], chunk[2] = sources, each [url + "#:~:text=...",
//   title, favicon, snippet, [...], null, site name, ...]. No markers in the text.
// Layout B: inline `[cite: 1, 2]` markers, resolved from cand[12][43] (or the sparse cand[12][0]["44"]):
//   each group [[marker text], [entry, ...]], entry[3][0] = [favicon, url, title].
// Searched: inner[2]["7"] (early frames) or inner[11] (final frame) lists a "Google Search" tool.

import type { ChatRequest, Citation, WebSearchOptions, WebSource } from '../../core/types.js';

export interface Grounding {
  /** Every source, deduplicated by URL (without its `#:~:text=` fragment), in first-use order. */
  sources: WebSource[];
  /** Layout A: quoted spans of the answer and the URLs behind each. */
  quotes: Array<{ quote: string; urls: string[] }>;
  /** Layout B: marker text (`[cite: 1, 2]`) -> URLs. */
  markers: Map<string, string[]>;
}

const at = (value: unknown, ...path: Array<number | string>): unknown => {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
};
const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** A source URL without the text-fragment suffix Google adds to point at the quote. */
export function baseUrl(url: string): string {
  const hash = url.indexOf('#:~:text=');
  return hash >= 0 ? url.slice(0, hash) : url;
}

/** Whether a frame says Gemini used Google Search (the tool list of early or final frames). */
export function searchedIn(inner: unknown[]): boolean {
  for (const value of [at(inner, 2, '7'), inner[11]]) {
    if (value !== undefined && value !== null && JSON.stringify(value).includes('Google Search')) return true;
  }
  return false;
}

/** The sources of a candidate in either layout; undefined when it has none. */
export function readGrounding(c: unknown[]): Grounding | undefined {
  const grounding: Grounding = { sources: [], quotes: [], markers: new Map() };
  const byUrl = new Map<string, WebSource>();
  const add = (source: WebSource): string => {
    const url = baseUrl(source.url);
    if (!byUrl.has(url)) {
      const clean: WebSource = { ...source, url };
      byUrl.set(url, clean);
      grounding.sources.push(clean);
    }
    return url;
  };

  const chunks = at(c, 2, 1);
  if (Array.isArray(chunks)) {
    for (const chunk of chunks) {
      const list = at(chunk, 2);
      if (!Array.isArray(list)) continue;
      const urls: string[] = [];
      for (const s of list) {
        const url = str(at(s, 0));
        if (!url) continue;
        const source: WebSource = { url, title: str(at(s, 1)) ?? url };
        const snippet = str(at(s, 3));
        if (snippet) source.snippet = snippet;
        const site = str(at(s, 6));
        if (site) source.siteName = site;
        const clean = add(source);
        if (!urls.includes(clean)) urls.push(clean);
      }
      const quote = str(at(chunk, 0, 0));
      if (quote && urls.length > 0) grounding.quotes.push({ quote, urls });
    }
  }

  const sparse = at(c, 12, 0);
  const groups = at(c, 12, 43) ?? (sparse && typeof sparse === 'object' && !Array.isArray(sparse) ? (sparse as Record<string, unknown>)['44'] : undefined);
  if (Array.isArray(groups)) {
    for (const group of groups) {
      const marker = str(at(group, 0, 0));
      const entries = at(group, 1);
      if (!Array.isArray(entries)) continue;
      const urls: string[] = [];
      for (const entry of entries) {
        const url = str(at(entry, 3, 0, 1));
        if (!url) continue;
        const clean = add({ url, title: str(at(entry, 3, 0, 2)) ?? url });
        if (!urls.includes(clean)) urls.push(clean);
      }
      if (marker) grounding.markers.set(normalizeMarker(marker), urls);
    }
  }
  return grounding.sources.length > 0 ? grounding : undefined;
}

/** `[cite: 1, 2]` markers (and `[cite_start]`), which never reach a client. */
export const CITE_MARKER = /[ \t]?\[cite(?:_start|:\s*[\d,\s]*)\]/g;

function normalizeMarker(marker: string): string {
  return marker.replace(/\s+/g, '').toLowerCase();
}

/** A span of the final answer; `citations` when sources back it. */
export interface Segment {
  text: string;
  citations?: Citation[];
}

/**
 * Split the cleaned answer (cite markers still in place) into segments whose texts joined are the
 * answer without markers. Layout B cites the sentence before each marker; layout A the quoted spans,
 * found in order in the text (their offsets are not trusted: byte vs character units are unconfirmed).
 */
export function citedSegments(withMarkers: string, grounding: Grounding): Segment[] {
  const titles = new Map(grounding.sources.map((s) => [s.url, s.title]));
  const cite = (urls: string[], citedText: string): Citation[] => urls.map((url) => ({ url, title: titles.get(url) ?? url, citedText }));
  const spans: Array<{ start: number; end: number; urls: string[] }> = [];

  // Strip markers, remembering where each stood in the stripped text.
  let text = '';
  let last = 0;
  for (const match of withMarkers.matchAll(CITE_MARKER)) {
    text += withMarkers.slice(last, match.index);
    last = match.index + match[0].length;
    const numbers = /:\s*([\d,\s]*)\]/.exec(match[0]);
    if (!numbers) continue; // [cite_start]
    const urls = grounding.markers.get(normalizeMarker(match[0].trim())) ?? numbers[1]!.split(',').map((n) => grounding.sources[Number(n.trim()) - 1]?.url).filter((u): u is string => Boolean(u));
    if (urls.length === 0) continue;
    const before = text.replace(/\s+$/, '');
    const start = Math.max(sentenceStart(before), spans.at(-1)?.end ?? 0);
    if (before.length > start) spans.push({ start, end: before.length, urls });
  }
  text += withMarkers.slice(last);

  let cursor = 0;
  for (const { quote, urls } of grounding.quotes) {
    const start = text.indexOf(quote, cursor);
    if (start < 0 || spans.some((s) => start < s.end && start + quote.length > s.start)) continue;
    spans.push({ start, end: start + quote.length, urls });
    cursor = start + quote.length;
  }
  spans.sort((a, b) => a.start - b.start);

  const segments: Segment[] = [];
  let position = 0;
  for (const span of spans) {
    if (span.start < position) continue;
    if (span.start > position) segments.push({ text: text.slice(position, span.start) });
    const cited = text.slice(span.start, span.end);
    segments.push({ text: cited, citations: cite(span.urls, cited) });
    position = span.end;
  }
  if (position < text.length) segments.push({ text: text.slice(position) });
  return segments;
}

/** Where the last sentence of `text` begins (after a line break or a sentence end). */
function sentenceStart(text: string): number {
  let start = text.lastIndexOf('\n') + 1;
  for (const match of text.matchAll(/[.!?]\s+/g)) {
    const end = match.index + match[0].length;
    if (end > start && end < text.length) start = end;
  }
  return start;
}

/** The query a search answered: the client's own words (Claude Code's WebSearch phrasing understood). */
export function searchQuery(request: ChatRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role !== 'user') continue;
    const text = message.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n').trim();
    if (!text) continue;
    const claude = /Perform a web search for the query:\s*([^\n]+)/.exec(text);
    const query = (claude ? claude[1]! : text).trim();
    return query.length > 300 ? `${query.slice(0, 300)}…` : query;
  }
  return '';
}

/** Keep only sources the client's domain lists allow. */
export function allowedSources(sources: WebSource[], options: WebSearchOptions): WebSource[] {
  const host = (url: string) => {
    try {
      return new URL(url).hostname.toLowerCase();
    } catch {
      return '';
    }
  };
  const matches = (h: string, domain: string) => {
    const d = domain.toLowerCase().replace(/^\*\./, '');
    return h === d || h.endsWith(`.${d}`);
  };
  return sources.filter((s) => {
    const h = host(s.url);
    if (options.allowedDomains?.length && !options.allowedDomains.some((d) => matches(h, d))) return false;
    return !options.blockedDomains?.some((d) => matches(h, d));
  });
}

/** The line added to the prompt when the client requires a search (no request flag exists for it). */
export function searchInstruction(options: WebSearchOptions): string {
  let line = 'Search the web with Google Search before you answer, and base the answer on what you find.';
  if (options.allowedDomains?.length) line += ` Use only results from: ${options.allowedDomains.join(', ')}.`;
  if (options.blockedDomains?.length) line += ` Do not use results from: ${options.blockedDomains.join(', ')}.`;
  return line;
}
