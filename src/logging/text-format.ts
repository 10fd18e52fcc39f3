// `logging.format: text`: the design's line, `2026-01-31 14:30:25 | INFO | POST /v1/chat/completions |
// gemini-2.5-pro | 200 | 1.2s`, then the remaining fields as key=value. Built from pino's JSON line
// (one formatter for every output), local time like the design's loguru default.

const LEVELS: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'FATAL' };
// The request line's message already says these.
const IN_REQUEST_MESSAGE = new Set(['method', 'path', 'status', 'model', 'duration_ms']);
const pad = (n: number) => String(n).padStart(2, '0');

export function localTimestamp(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=|]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line -> one text line (a line that is not JSON passes through). */
export function formatTextLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, ...rest } = entry;
  const isRequestLine = 'duration_ms' in rest;
  const extras = Object.entries(rest)
    .filter(([key]) => !(isRequestLine && IN_REQUEST_MESSAGE.has(key)))
    .map(([key, v]) => `${key}=${value(v)}`);
  const head = [
    localTimestamp(typeof time === 'number' ? time : Date.now()),
    LEVELS[String(level)] ?? String(level).toUpperCase(),
    typeof msg === 'string' ? msg : '',
  ].join(' | ');
  return `${extras.length ? `${head} | ${extras.join(' ')}` : head}\n`;
}
