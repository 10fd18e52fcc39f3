// /ready asks each upstream with an HTTP API of its own (g4f and the other OpenAI-compatible ones,
// the `upstreamQuery` capability) whether anything answers at its URL: GET {base_url}/models, cached
// for a few seconds, one probe in flight per upstream. Any HTTP answer (even 401 or 404) means a
// server listens; a refused connection or a timeout means not ready. Without this, /ready called g4f
// "ok" while nothing listened at its URL.

import { GatewayError } from '../core/gateway-error.js';
import type { Provider, ProviderHealth } from '../core/provider.js';

interface Probe {
  at: number;
  reachable: boolean;
  detail?: string;
  pending?: Promise<void>;
}

export interface ReadinessOptions {
  /** How long a probe's answer stands (ms). */
  ttlMs?: number;
  timeoutMs?: number;
}

export class ReadinessProbe {
  // Keyed by the provider object: a reload that rebuilds an upstream starts with a fresh probe.
  private readonly probes = new WeakMap<Provider, Probe>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(options: ReadinessOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
  }

  async health(provider: Provider): Promise<ProviderHealth> {
    const own = provider.health();
    if (!provider.upstreamQuery) return own;
    const probe = await this.probe(provider);
    if (probe.reachable) return own;
    return { state: 'unavailable', usable: false, detail: probe.detail ?? 'unreachable' };
  }

  private async probe(provider: Provider): Promise<Probe> {
    const probe = this.probes.get(provider);
    if (probe && Date.now() - probe.at < this.ttlMs) return probe;
    if (probe?.pending) {
      await probe.pending;
      return this.probes.get(provider)!;
    }
    const next: Probe = probe ?? { at: 0, reachable: false };
    next.pending = this.run(provider).then((result) => {
      this.probes.set(provider, { at: Date.now(), ...result });
    });
    this.probes.set(provider, next);
    await next.pending;
    return this.probes.get(provider)!;
  }

  private async run(provider: Provider): Promise<{ reachable: boolean; detail?: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GatewayError('timeout', 'readiness probe timed out', { code: 'upstream_timeout' })), this.timeoutMs);
    });
    try {
      await Promise.race([provider.upstreamQuery!.getJson('/models'), timeout]);
      return { reachable: true };
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : undefined;
      // upstream_<status> (or model_not_found for a 404): an HTTP answer, so a server is there.
      if (code && (/^upstream_\d{3}$/.test(code) || code === 'model_not_found')) return { reachable: true };
      return { reachable: false, detail: code ?? 'unreachable' };
    } finally {
      clearTimeout(timer);
    }
  }
}
