// The config as status output shows it: every secret masked, including passwords inside URLs
// (proxies, Redis), and every secret handed to the log scrubber.
import { describe, expect, it } from 'vitest';
import { configSecrets, maskedConfig } from '../src/config/mask.js';
import { parseConfigText } from '../src/config/load.js';

const SECRETS = ['upstream-key-0123456789abcdef', 'g4f-proxy-pass-77', 'gem-proxy-pass-88', 'acct-proxy-pass-99', 'oai-proxy-pass-66', 'redis-pass-55'];

describe('masked config', () => {
  it('hides API keys and the password of every proxy and Redis URL, and registers them all for scrubbing', () => {
    const loaded = parseConfigText(
      `g4f:\n  proxy: http://user:${SECRETS[1]}@proxy.local:8080\n` +
        `openai_compatible:\n  - name: other\n    base_url: http://127.0.0.1:9/v1\n    api_key: ${SECRETS[0]}\n    proxy: socks5://u:${SECRETS[4]}@127.0.0.1:1080\n` +
        `gemini:\n  proxy: http://me:${SECRETS[2]}@proxy.local:3128\n  accounts:\n    - name: one\n      cookie_path: /tmp/one.json\n      proxy: http://x:${SECRETS[3]}@proxy.local:3129\n` +
        `state:\n  redis_url: redis://:${SECRETS[5]}@redis.local:6379/0\n`,
      {},
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const shown = JSON.stringify(maskedConfig(loaded.config));
    for (const secret of SECRETS) expect(shown, secret).not.toContain(secret);
    expect(shown).toContain('proxy.local:8080'); // the rest of the URL stays readable
    expect(shown).toContain('redis.local:6379');
    expect(configSecrets(loaded.config)).toEqual(expect.arrayContaining(SECRETS));
  });
});
