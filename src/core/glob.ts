// `*` and `?` globs for model names (`deepseek-*`, `claude-sonnet-*`). Compiled patterns are cached
// (bounded: the set of patterns comes from the config).

const cache = new Map<string, RegExp>();

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

export function globMatch(pattern: string, name: string): boolean {
  if (!isGlob(pattern)) return pattern === name;
  let re = cache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (cache.size >= 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re.test(name);
}
