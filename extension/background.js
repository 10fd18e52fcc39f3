// Gemini Gateway cookie sync, background: Chrome's service worker, Firefox's event page.
// Reads the Google account cookies of this browser (the browser keeps them fresh, device-bound
// sessions included) and POSTs them to <gateway>/admin/cookies?account=<name> with the admin token:
// whenever __Secure-1PSID or __Secure-1PSIDTS changes (debounced) and on an alarm every N minutes.
// The token and the cookie values go to the configured gateway only; nothing is ever logged.
'use strict';

if (typeof importScripts === 'function') importScripts('common.js'); // Chrome; Firefox lists it in the manifest

const { api, PSID, PSIDTS } = GG;
const WATCHED = new Set([PSID, PSIDTS]);
const ALARM = 'cookie-sync';
const DEBOUNCE_MS = 1500;
const TIMEOUT_MS = 60_000;

/** The cookies the gateway wants: every cookie of .google.com (SAPISID signs requests, the SIDCC
 * family rotates with PSIDTS), then gemini.google.com's own; on a name clash "/" and .google.com win. */
async function googleCookies() {
  let list;
  try {
    list = await api.cookies.getAll({ domain: 'google.com' });
  } catch {
    list = await api.cookies.getAll({ domain: 'google.com', firstPartyDomain: null }); // Firefox with first-party isolation
  }
  const rank = (c) => (c.domain === '.google.com' || c.domain === 'google.com' ? 0 : c.domain.replace(/^\./, '') === 'gemini.google.com' ? 2 : 9) + (c.path === '/' ? 0 : 1);
  const cookies = {};
  for (const c of list.filter((c) => rank(c) < 9).sort((a, b) => rank(a) - rank(b))) if (!(c.name in cookies) && c.value) cookies[c.name] = c.value;
  return cookies;
}

/** What the gateway answered, in one line (its own messages carry masked values only). */
function describe(path, status, body) {
  if (status >= 400) {
    const error = body?.error;
    const text = typeof error?.message === 'string' ? error.message : typeof error === 'string' ? error : 'Gateway error';
    return status === 401 ? `The gateway refused the admin token: ${text} (401)` : `${text} (${status})`;
  }
  const account = typeof body?.account === 'string' ? body.account : body?.account?.name;
  if (path === 'check') {
    const models = Array.isArray(body?.models) && body.models.length ? `; models: ${body.models.join(', ')}` : '';
    return `Valid for account ${account ?? '?'}: Google account status ${body?.account_status ?? '?'}${models}`;
  }
  const state = body?.account?.state ? ` (${body.account.state})` : '';
  return `Saved and verified by the gateway: account ${account ?? '?'}${state}`;
}

/** POST the cookies to <gateway>/admin/cookies[/check]; resolves to a verdict, never throws. */
async function send(s, path, cookies) {
  let base;
  try {
    base = GG.gatewayUrl(s.gateway);
  } catch (error) {
    return { ok: false, status: 0, message: error.message };
  }
  if (!s.token) return { ok: false, status: 0, message: 'No admin token set' };
  if (!(await api.permissions.contains({ origins: [GG.originPattern(base)] }))) {
    return { ok: false, status: 0, message: `No permission to reach ${base.origin}: open the options and press Save` };
  }
  if (!cookies[PSID]) return { ok: false, status: 0, message: `No ${PSID} cookie in this browser: sign in at gemini.google.com` };
  const url = new URL(path === 'check' ? 'admin/cookies/check' : 'admin/cookies', base);
  if (s.account) url.searchParams.set('account', s.account);
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(cookies),
      // A redirect would carry the cookies elsewhere: refuse it. No ambient credentials either.
      redirect: 'error',
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return { ok: false, status: 0, message: `Gateway not reachable at ${base.origin} (${error.name === 'TimeoutError' ? 'timeout' : 'network error or redirect'})` };
  }
  const body = await res.json().catch(() => null);
  return { ok: res.ok, status: res.status, message: describe(path, res.status, body) };
}

async function record(verdict, trigger) {
  const last = { ...verdict, trigger, time: new Date().toISOString() };
  await api.storage.local.set({ verdict: last });
  await api.action.setBadgeText({ text: verdict.ok ? 'OK' : '!' });
  await api.action.setBadgeBackgroundColor({ color: verdict.ok ? '#1e8e3e' : '#d93025' });
  await api.action.setTitle({ title: `Gemini Gateway cookie sync: ${last.message}` });
  return last;
}

/** A fingerprint of what was last sent (gateway, account, PSID, PSIDTS) so a change event that
 * changes nothing does not post again. Memory only; a restarted worker posts once more. */
let lastSent = '';
async function fingerprint(s, cookies) {
  const data = new TextEncoder().encode(JSON.stringify([s.gateway, s.account, cookies[PSID] ?? '', cookies[PSIDTS] ?? '']));
  return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sync(trigger) {
  const s = await GG.settings();
  if (!s.gateway) return record({ ok: false, status: 0, message: 'Not configured yet: open the options' }, trigger);
  const cookies = await googleCookies();
  const print = await fingerprint(s, cookies);
  if (trigger === 'change' && print === lastSent) return undefined;
  const verdict = await send(s, 'save', cookies);
  lastSent = verdict.ok ? print : '';
  return record(verdict, trigger);
}

// One sync at a time, in order.
let queue = Promise.resolve();
function run(trigger) {
  const next = queue.then(() => sync(trigger));
  queue = next.catch(() => undefined);
  return next;
}

let timer;
function soon() {
  clearTimeout(timer);
  timer = setTimeout(() => void run('change'), DEBOUNCE_MS);
}

async function schedule() {
  const { interval } = await GG.settings();
  const minutes = Math.max(1, Number(interval) || GG.DEFAULTS.interval);
  const existing = await api.alarms.get(ALARM);
  if (existing?.periodInMinutes === minutes) return;
  await api.alarms.create(ALARM, { delayInMinutes: minutes, periodInMinutes: minutes });
}

// Listeners at the top level, so an event wakes the worker and finds them.
api.cookies.onChanged.addListener(({ removed, cookie, cause }) => {
  if (!WATCHED.has(cookie.name) || (cookie.domain !== '.google.com' && cookie.domain !== 'google.com')) return;
  if (removed) {
    // "overwrite" is the first half of a value change; the new value follows as its own event.
    if (cause !== 'overwrite' && cookie.name === PSID) void record({ ok: false, status: 0, message: `${PSID} was removed from this browser (signed out?); the gateway keeps the cookies it has` }, 'change');
    return;
  }
  soon();
});

api.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) void run('alarm');
});

api.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && 'interval' in changes) void schedule();
});

api.runtime.onInstalled.addListener(() => void schedule());
api.runtime.onStartup.addListener(() => void schedule());

// From the options page and the popup (this extension's own pages only).
api.runtime.onMessage.addListener((message, sender, reply) => {
  if (sender.id !== api.runtime.id || !message || typeof message.type !== 'string') return false;
  if (message.type === 'sync') {
    run(message.trigger === 'save' ? 'save' : 'manual').then(reply, () => reply(undefined));
    return true;
  }
  if (message.type === 'test') {
    // Check the cookies against the settings in the form (not yet saved): nothing is stored.
    const s = { ...GG.DEFAULTS, ...message.settings };
    googleCookies()
      .then((cookies) => send(s, 'check', cookies))
      .then((verdict) => reply({ ...verdict, time: new Date().toISOString() }), () => reply(undefined));
    return true;
  }
  return false;
});
