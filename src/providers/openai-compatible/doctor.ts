// `gemini-gateway doctor` for an OpenAI-compatible upstream: can its model list be read?

import type { DoctorStep } from '../../core/provider.js';
import type { UpstreamQuery } from '../../core/provider.js';

export async function diagnoseOpenAICompatible(upstream: UpstreamQuery, step: DoctorStep): Promise<boolean> {
  return step('models (GET /models)', async () => {
    const body = (await upstream.getJson('/models')) as { data?: Array<{ id?: string }> };
    const ids = (body.data ?? []).map((m) => m.id).filter(Boolean);
    return `${ids.length} models${ids.length ? `: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', …' : ''}` : ''}`;
  });
}
