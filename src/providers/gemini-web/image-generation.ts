// The Images API on Gemini: one chat turn per wanted image ("Generate an image: …", the input images
// attached for an edit), the generated images fetched at full size through the signed link path (and
// so the disk cache). Guests cannot generate images: a 400 that says so.

import { GatewayError } from '../../core/gateway-error.js';
import type { GeneratedImage, ImageRequest, ProviderCallContext } from '../../core/provider.js';
import type { ChatEvent, ChatRequest } from '../../core/types.js';

/** What image generation needs of the provider. */
export interface ImageSubject {
  signedInAccounts(): Promise<{ signedIn: boolean; guest: boolean }>;
  defaultModel(): string;
  stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent>;
  fetchImage(token: string): Promise<{ status: number; type: string; body: Buffer }>;
}

export async function generateImages(subject: ImageSubject, request: ImageRequest, context: Omit<ProviderCallContext, 'upstreamModel' | 'budget'>): Promise<GeneratedImage[]> {
  const { signedIn, guest } = await subject.signedInAccounts();
  if (!signedIn && guest) {
    throw new GatewayError('invalid_request', 'Image generation needs a signed-in Google account (Gemini refuses it for guests): add cookies (gemini.cookie_path or /admin/cookies)', { code: 'images_need_cookies' });
  }
  const model = request.model ?? subject.defaultModel();
  const verb = request.images?.length ? 'Edit the attached image' : 'Generate an image';
  const chat: ChatRequest = {
    model,
    system: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: `${verb}: ${request.prompt}` }, ...(request.images ?? []).map((i) => ({ type: 'image' as const, data: i.data, mimeType: i.mimeType }))] }],
    tools: [],
    toolChoice: { type: 'auto' },
    stream: false,
    imageGeneration: true,
  };
  const out: GeneratedImage[] = [];
  let said = '';
  for (let turn = 0; turn < request.n && out.length < request.n; turn++) {
    let text = '';
    const links: Array<{ url: string; alt?: string }> = [];
    for await (const event of subject.stream(chat, { ...context, upstreamModel: model })) {
      if (event.type === 'text-delta') text += event.text;
      else if (event.type === 'image' && event.url.includes('/images/')) links.push(event.alt ? { url: event.url, alt: event.alt } : { url: event.url });
      else if (event.type === 'error') throw event.error;
    }
    said = text.trim();
    for (const link of links) {
      const token = link.url.slice(link.url.lastIndexOf('/images/') + '/images/'.length);
      const image = await subject.fetchImage(token);
      if (image.status !== 200) throw new GatewayError('upstream_unavailable', `The generated image could not be fetched (HTTP ${image.status})`, { code: 'image_fetch_failed' });
      out.push({ url: link.url, mimeType: image.type, data: image.body, ...(link.alt ? { alt: link.alt } : {}), ...(said ? { text: said } : {}) });
    }
    if (links.length === 0) break; // a refusal or a text answer: asking again rarely helps
  }
  if (out.length === 0) {
    throw new GatewayError('upstream_unavailable', `Gemini answered without an image${said ? `: ${said.slice(0, 300)}` : ''}`, { code: 'no_image_generated', retryable: false });
  }
  return out.slice(0, request.n);
}
