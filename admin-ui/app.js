// The admin console: plain JavaScript, no build step, no third-party code. The admin token lives in
// sessionStorage and goes out as a Bearer header; the gateway sets no cookie.
'use strict';

const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = 'gateway-admin-token';
let refreshTimer;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

async function api(method, url, body, contentType = 'application/json') {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` };
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : contentType === 'application/json' ? JSON.stringify(body) : body });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    error.details = data?.error?.details;
    throw error;
  }
  return data;
}

function state(value) {
  return el('span', { class: `state state-${value}` }, value);
}

// ---- views -----------------------------------------------------------------------------------

async function showAccounts() {
  const list = $('#account-list');
  const select = $('#cookie-account');
  try {
    const { accounts } = await api('GET', '/admin/cookies/status');
    list.replaceChildren(
      ...accounts.map((a) => {
        const test = el('button', { class: 'quiet', 'data-test': a.name }, 'Test');
        const result = el('span', { class: 'hint', 'data-test-result': a.name });
        test.addEventListener('click', async () => {
          result.textContent = 'asking Gemini…';
          try {
            const r = await api('POST', `/admin/cookies/test?account=${encodeURIComponent(a.name)}`, {});
            result.textContent = `${r.model}: "${r.answer}" in ${r.ms} ms`;
            result.className = 'ok';
          } catch (error) {
            result.textContent = error.message;
            result.className = 'error';
          }
        });
        return el(
          'div',
          { class: 'card account', 'data-account': a.name },
          el('h3', {}, a.name, ' ', state(a.state)),
          el(
            'dl',
            {},
            el('dt', {}, 'Until'), el('dd', {}, a.until ?? '—'),
            el('dt', {}, '__Secure-1PSID'), el('dd', { 'data-field': 'psid' }, a.psid ?? 'none'),
            el('dt', {}, '__Secure-1PSIDTS'), el('dd', {}, a.psidts ?? 'none'),
            el('dt', {}, 'Updated'), el('dd', {}, a.updated_at ?? '—'),
            el('dt', {}, 'Last rotation'), el('dd', {}, a.last_rotation ? `${a.last_rotation.result} at ${a.last_rotation.at}` : '—'),
            el('dt', {}, 'Next rotation'), el('dd', {}, a.next_rotation ?? (a.auto_refresh ? '—' : 'off')),
            el('dt', {}, 'Last error'), el('dd', {}, a.last_error ?? '—'),
          ),
          el('div', { class: 'row' }, test, result),
        );
      }),
    );
    const current = select.value;
    select.replaceChildren(...accounts.map((a) => el('option', { value: a.name }, a.name)));
    if (current) select.value = current;
  } catch (error) {
    list.replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

async function cookieAction(kind) {
  const out = $('#cookie-result');
  const account = encodeURIComponent($('#cookie-account').value);
  const text = $('#cookie-text').value.trim();
  if (!text) {
    out.textContent = 'Paste the cookies first.';
    out.className = 'error';
    return;
  }
  out.textContent = kind === 'check' ? 'Checking with Google…' : 'Saving…';
  out.className = 'hint';
  try {
    const url = kind === 'check' ? `/admin/cookies/check?account=${account}` : `/admin/cookies?account=${account}`;
    const result = await api('POST', url, text, 'text/plain');
    out.textContent = kind === 'check' ? `Valid: ${result.psid}, account status ${result.account_status}, models: ${result.models.join(', ') || 'none listed'}. Press Save to use them.` : 'Saved and in use.';
    out.className = 'ok';
    if (kind === 'save') await showAccounts();
  } catch (error) {
    out.textContent = error.message;
    out.className = 'error';
  }
}

async function showRoutes() {
  const body = $('#routes-body');
  try {
    const routes = await api('GET', '/admin/routes');
    const table = (head, rows) => el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c)))))));
    body.replaceChildren(
      el('h3', {}, 'Upstreams'),
      table(['Upstream', 'State', 'Usable', 'Tools', 'Accounts'], routes.upstreams.map((u) => [u.id, state(u.state), u.usable ? 'yes' : 'no', u.native_tools ? 'native' : 'emulated', (u.accounts ?? []).map((a) => `${a.name}: ${a.state}`).join(', ') || '—'])),
      el('h3', {}, 'Models'),
      table(['Model', 'Upstream'], routes.models.map((m) => [m.id, m.provider])),
      el('h3', {}, 'Aliases'),
      table(['Requested', 'Served by', 'Upstream'], routes.aliases.map((a) => [a.pattern, a.target, a.resolves_to?.provider ?? a.resolves_to?.error ?? '—'])),
      el('h3', {}, 'Globs'),
      table(['Pattern', 'Upstream'], routes.globs.map((g) => [g.pattern, g.provider])),
      el('h3', {}, 'Fallbacks'),
      table(['Model', 'Then try'], routes.fallbacks.map((f) => [f.pattern, f.models.join(' → ')])),
      el('p', {}, 'Default model: ', el('strong', {}, routes.default_model ?? 'none (unknown names get 404)')),
    );
  } catch (error) {
    body.replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

async function showRequests() {
  const tbody = $('#requests-table tbody');
  try {
    const { requests } = await api('GET', '/admin/requests?limit=100');
    tbody.replaceChildren(
      ...requests.map((r) =>
        el('tr', { 'data-request': r.path }, el('td', {}, new Date(r.time).toLocaleTimeString()), el('td', {}, r.protocol), el('td', {}, r.model ?? '—'), el('td', {}, r.provider ?? '—'), el('td', {}, r.status), el('td', {}, r.ttfb_ms ?? '—'), el('td', {}, r.duration_ms), el('td', {}, r.tokens ? `${r.tokens.input}/${r.tokens.output}` : '—')),
      ),
    );
  } catch (error) {
    tbody.replaceChildren(el('tr', {}, el('td', { class: 'error', colspan: '8' }, error.message)));
  }
}

async function showSettings() {
  try {
    const logging = await api('GET', '/admin/logging');
    $('#level-now').textContent = logging.level;
    $('#level-detail').textContent = logging.override ? `(override${logging.override.expires_at ? ` until ${logging.override.expires_at}` : ''}; configured: ${logging.configured_level})` : '(from the config)';
    const config = await api('GET', '/admin/config');
    const last = config.last_reload;
    $('#reload-last').textContent = `${last.ok ? 'ok' : 'failed'} (${last.trigger}) at ${last.at}`;
  } catch (error) {
    $('#level-now').textContent = error.message;
  }
}

async function setLevel() {
  const ttl = $('#level-ttl').value;
  await api('POST', '/admin/logging', { level: $('#level').value, ...(ttl ? { ttl_seconds: Number(ttl) } : {}) });
  await showSettings();
}

async function reload() {
  const out = $('#reload-result');
  try {
    const result = await api('POST', '/admin/config/reload', {});
    out.replaceChildren(el('p', { class: 'ok' }, `Reloaded (version ${result.version}). Changed: ${result.changed.join(', ') || 'nothing'}.${result.restart_required.length ? ` Restart required for ${result.restart_required.join(', ')}.` : ''}`));
  } catch (error) {
    out.replaceChildren(el('p', { class: 'error' }, error.message), ...(error.details ?? []).map((d) => el('p', { class: 'error issue' }, `${d.path}: ${d.message}`)));
  }
  await showSettings();
}

// ---- navigation --------------------------------------------------------------------------------

const VIEWS = { accounts: showAccounts, routes: showRoutes, requests: showRequests, settings: showSettings };

async function go(view) {
  clearInterval(refreshTimer);
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll('nav [data-view]')) button.classList.toggle('active', button.dataset.view === view);
  await VIEWS[view]();
  if (view === 'requests') refreshTimer = setInterval(showRequests, 3000);
  location.hash = view;
}

async function login(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await api('GET', '/admin/logging');
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('#login-error').textContent = error.status === 401 || error.status === 403 ? 'That token is not the admin token.' : error.message;
    return;
  }
  $('#login').hidden = true;
  $('#nav').hidden = false;
  await go(VIEWS[location.hash.slice(1)] ? location.hash.slice(1) : 'accounts');
}

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void login($('#token').value.trim());
  });
  $('#logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  for (const button of document.querySelectorAll('nav [data-view]')) button.addEventListener('click', () => void go(button.dataset.view));
  $('#cookie-check').addEventListener('click', () => void cookieAction('check'));
  $('#cookie-save').addEventListener('click', () => void cookieAction('save'));
  $('#level-set').addEventListener('click', () => void setLevel());
  $('#reload').addEventListener('click', () => void reload());
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void login(saved);
});
