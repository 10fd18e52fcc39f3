// Secret values (tokens, cookies) known to the process. The log destination scrubs them from every
// line as a last line of defence, and status output shows them only masked.

const MIN_SCRUB_LENGTH = 6; // shorter strings would mangle ordinary words in log lines

export class SecretRegistry {
  private readonly byOwner = new Map<string, string[]>();
  private all: string[] = [];

  /** Replace the secrets an owner ("config", "gemini:default", ...) registered before. */
  set(owner: string, values: Iterable<string | undefined | null>): void {
    const kept = [...new Set([...values].filter((v): v is string => typeof v === 'string' && v.length >= MIN_SCRUB_LENGTH))];
    if (kept.length === 0) this.byOwner.delete(owner);
    else this.byOwner.set(owner, kept);
    // Longest first so a secret that contains another is replaced whole.
    this.all = [...new Set([...this.byOwner.values()].flat())].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.all.length;
  }

  /** Replace every known secret in `text`. Fast path: no secret, or none present. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.all) {
      if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    }
    return out;
  }
}

/** A long value shows its first and last 4 characters (enough to tell two apart); short ones nothing. */
export function mask(value: string | undefined | null): string | null {
  if (value == null || value === '') return null;
  if (value.length < 24) return `*** (${value.length} chars)`;
  return `${value.slice(0, 4)}…${value.slice(-4)} (${value.length} chars)`;
}
