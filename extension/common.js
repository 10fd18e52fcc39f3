// Shared by the background (Chrome: importScripts; Firefox: listed before background.js), the
// options page and the popup. Plain script, no modules, no build step, no remote code.
'use strict';

var GG = (() => {
  // Firefox has `browser` (and `chrome`); Chrome only `chrome`. Both return promises in MV3.
  const api = globalThis.browser ?? globalThis.chrome;

  const PSID = '__Secure-1PSID';
  const PSIDTS = '__Secure-1PSIDTS';
  /** Where the account cookies live (the manifest's only required host permission). */
  const GOOGLE = 'https://*.google.com/*';
  const DEFAULTS = { gateway: '', token: '', account: '', interval: 30 };

  /**
   * The gateway's base URL from what the user typed: http(s) only, no credentials, query or
   * fragment; a path prefix is kept (a gateway behind a reverse proxy at /gw/) and ends with "/".
   */
  function gatewayUrl(text) {
    let url;
    try {
      url = new URL(String(text ?? '').trim());
    } catch {
      throw new Error('The gateway URL is not a URL (example: http://127.0.0.1:8022)');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The gateway URL must start with http:// or https://');
    if (url.username || url.password) throw new Error('Put the admin token in its own field, not in the URL');
    url.search = '';
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
  }

  /** The host permission for the gateway: its scheme and host (match patterns carry no port). */
  function originPattern(url) {
    return `${url.protocol}//${url.hostname}/*`;
  }

  async function settings() {
    return { ...DEFAULTS, ...(await api.storage.local.get(Object.keys(DEFAULTS))) };
  }

  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
  }

  return { api, PSID, PSIDTS, GOOGLE, DEFAULTS, gatewayUrl, originPattern, settings, when };
})();
