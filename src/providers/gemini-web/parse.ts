// Envelopes -> what a StreamGenerate or batchexecute answer means. Paths follow the protocol notes
// (shared/docs/gemini-web-protocol.md §3); every access is defensive because Google changes them.

import type { Part } from './frames.js';
import { readGrounding, searchedIn, type Grounding } from './search.js';

export interface WebImage {
  url: string;
  alt: string;
  generated: boolean;
}

export interface CandidateSnapshot {
  rcid: string;
  /** Cumulative answer text (raw, before clean-up). */
  text: string;
  /** Cumulative thoughts. */
  thoughts: string;
  /** Status 2 (or null) = complete. */
  final: boolean;
  /** Replacement for a card_content placeholder text. */
  cardText?: string;
  images: WebImage[];
  /** Web search sources (search.ts: layout A or B), when the answer used Google Search. */
  grounding?: Grounding;
}

export interface GenerateFrame {
  cid?: string;
  rid?: string;
  candidates: CandidateSnapshot[];
  /** Context token: present when the turn is stored in the account's history. */
  context?: string;
  /** The model Google actually served (`[39]` id, `[42]` name): a guest gets a weaker one. */
  served?: { id?: string; name?: string };
  /** The frame lists Google Search among the tools used (search.ts). */
  searched?: boolean;
}

export interface ErrorPart {
  /** The small status at part[5][0] (google.rpc.Code-like). */
  status: number | null;
  /** The BardErrorInfo code (1037, 1060, …), if any. */
  code: number | null;
}

export type StreamPart = { kind: 'frame'; frame: GenerateFrame } | { kind: 'error'; error: ErrorPart } | { kind: 'other' };

export function at(value: unknown, ...path: number[]): unknown {
  let current = value;
  for (const index of path) {
    if (!Array.isArray(current)) return undefined;
    current = current[index];
  }
  return current;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function errorOf(part: Part): ErrorPart | undefined {
  const status = part[5];
  if (!Array.isArray(status) || status.length === 0) return undefined;
  const code = at(status, 2, 0, 1, 0);
  return { status: typeof status[0] === 'number' ? status[0] : null, code: typeof code === 'number' ? code : null };
}

/** A StreamGenerate part: a content frame, an error, or bookkeeping. */
export function readStreamPart(part: Part): StreamPart {
  if (part[0] !== 'wrb.fr') return { kind: 'other' };
  const error = errorOf(part);
  if (error) return { kind: 'error', error };
  const payload = str(part[2]);
  if (!payload) return { kind: 'other' };
  let inner: unknown;
  try {
    inner = JSON.parse(payload);
  } catch {
    return { kind: 'other' };
  }
  if (!Array.isArray(inner)) return { kind: 'other' };
  const frame: GenerateFrame = { candidates: [] };
  const cid = str(at(inner, 1, 0));
  const rid = str(at(inner, 1, 1));
  if (cid) frame.cid = cid;
  if (rid) frame.rid = rid;
  // The context token moved from [25] to [26] in some rollouts: accept both.
  const context = str(inner[26]) ?? str(inner[25]);
  if (context) frame.context = context;
  const servedId = str(inner[39]);
  const servedName = str(inner[42]);
  if (servedId || servedName) frame.served = { ...(servedId ? { id: servedId } : {}), ...(servedName ? { name: servedName } : {}) };
  if (searchedIn(inner)) frame.searched = true;
  const candidates = inner[4];
  if (Array.isArray(candidates)) {
    for (const c of candidates) {
      const candidate = readCandidate(c);
      if (candidate) frame.candidates.push(candidate);
    }
  }
  return { kind: 'frame', frame };
}

function readCandidate(c: unknown): CandidateSnapshot | undefined {
  if (!Array.isArray(c)) return undefined;
  const rcid = str(c[0]);
  if (!rcid) return undefined;
  const status = at(c, 8, 0);
  const candidate: CandidateSnapshot = {
    rcid,
    text: str(at(c, 1, 0)) ?? '',
    thoughts: str(at(c, 37, 0, 0)) ?? '',
    // 1 = still generating; 2 = complete; a missing status counts as complete (as the library does).
    final: status !== 1,
    images: [],
  };
  const card = str(at(c, 22, 0));
  if (card) candidate.cardText = card;
  const grounding = readGrounding(c);
  if (grounding) candidate.grounding = grounding;
  const web = at(c, 12, 1);
  if (Array.isArray(web)) {
    for (const item of web) {
      const url = str(at(item, 0, 0, 0));
      if (url) candidate.images.push({ url, alt: str(at(item, 0, 4)) ?? '', generated: false });
    }
  }
  // Generated images at [12][7][0], or (image-to-image) at the sparse key [12][0]["8"][0].
  const sparse = at(c, 12, 0) as Record<string, unknown> | undefined;
  const sparseImages = sparse && typeof sparse === 'object' && !Array.isArray(sparse) ? at(sparse['8'], 0) : undefined;
  for (const generated of [at(c, 12, 7, 0), sparseImages]) {
    if (!Array.isArray(generated)) continue;
    for (const item of generated) {
      const url = str(at(item, 0, 3, 3));
      if (url) candidate.images.push({ url, alt: str(at(item, 0, 3, 2)) ?? '', generated: true });
    }
  }
  return candidate;
}

/** batchexecute: the decoded body of the part answering `rpcid`, or a rejection status. */
export function readRpcAnswer(parts: Part[], rpcid: string): { body?: unknown; rejected?: number } | undefined {
  for (const part of parts) {
    if (part[0] !== 'wrb.fr' || part[1] !== rpcid) continue;
    const error = errorOf(part);
    if (error) return { rejected: error.code ?? error.status ?? 0 };
    const payload = str(part[2]);
    if (payload === undefined) return { body: null };
    try {
      return { body: JSON.parse(payload) as unknown };
    } catch {
      return { body: null };
    }
  }
  return undefined;
}
