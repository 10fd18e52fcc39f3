// The OpenAI Images API response: `{created, data: [{b64_json | url, revised_prompt}]}`.

import type { GeneratedImage } from '../../core/provider.js';
import type { ImagesRequest } from './decode.js';

export function encodeImages(images: GeneratedImage[], request: ImagesRequest): Record<string, unknown> {
  const format = images[0]?.mimeType.split('/')[1]?.split(';')[0];
  return {
    created: Math.floor(Date.now() / 1000),
    data: images.map((image) => ({
      ...(request.responseFormat === 'url' ? { url: image.url } : { b64_json: image.data.toString('base64') }),
      ...(image.text ? { revised_prompt: image.text } : {}),
    })),
    ...(format ? { output_format: format === 'jpeg' ? 'jpeg' : format } : {}),
    ...(request.size ? { size: request.size } : {}),
  };
}
