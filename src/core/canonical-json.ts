// JSON text in one canonical form, so the same tool arguments hash alike however a client or a
// model ordered their keys (`{"a":1,"b":2}` and `{"b":2,"a":1}`). Text that is not JSON is trimmed.

export function canonicalJson(text: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(text) as unknown));
  } catch {
    return text.trim();
  }
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}
