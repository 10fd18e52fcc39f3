// The admin console: plain JavaScript, no build step. The only third-party code is uPlot
// (vendor/, MIT) for the charts. The admin token lives in sessionStorage and goes out as a Bearer
// header (also for the live log, read with fetch() streaming); the gateway sets no cookie.
'use strict';

const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = 'gateway-admin-token';
let refreshTimer;
let currentView;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

function authHeaders() {
  return { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` };
}

async function api(method, url, body, contentType = 'application/json') {
  const headers = authHeaders();
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : contentType === 'application/json' ? JSON.stringify(body) : body });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    error.code = data?.error?.code;
    error.details = data?.error?.details;
    throw error;
  }
  return data;
}

// ---- formatting ------------------------------------------------------------------------------

/** Local date and time, e.g. "Dec 1, 14:03:07", in a <time> with the exact value on hover. */
function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const text = date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return el('time', { datetime: date.toISOString(), title: date.toString() }, text);
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** "in 12 min" / "in 2 h 5 min" until a time. */
function fromNow(iso) {
  const minutes = Math.max(0, Math.round((new Date(iso).getTime() - Date.now()) / 60000));
  if (minutes < 60) return `in ${minutes} min`;
  return `in ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function ms(value) {
  if (value === null || value === undefined) return '—';
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10000 ? 2 : 1)} s`;
}

function count(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(value);
}

function state(value) {
  return el('span', { class: `state state-${String(value).replace(/[^a-z_]/gi, '')}` }, String(value).replace(/_/g, ' '));
}

/** A table, or "none" in one row when there is nothing to list. */
function table(head, rows, attributes = {}) {
  const body = rows.length
    ? rows.map((r) => el('tr', {}, ...r.map((c, i) => el('td', { 'data-label': head[i] }, c))))
    : [el('tr', { class: 'none' }, el('td', { colspan: String(head.length) }, 'none'))];
  return el('div', { class: 'scroll' }, el('table', attributes, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...body)));
}

function notice(kind, title, ...text) {
  return el('div', { class: `notice notice-${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, el('strong', {}, title), ' ', ...text);
}

const HOW_TO_COOKIES = 'Sign in to gemini.google.com in a browser, copy the cookies (__Secure-1PSID and __Secure-1PSIDTS, e.g. with Cookie-Editor\'s "Export"), paste them on the Accounts page and press Save.';

/** What an account's state means and what to do about it (null when all is well). */
function accountNotice(a) {
  const reason = a.last_error ? ` Last error: ${a.last_error}.` : '';
  switch (a.state) {
    case 'ok': return null;
    case 'no_cookies': return notice('warn', `No cookies yet for "${a.name}".`, HOW_TO_COOKIES);
    case 'guest': return notice('info', `"${a.name}" is in guest mode.`, 'Gemini answers as a signed-out visitor (fewer models, no history). To sign in: ', HOW_TO_COOKIES);
    case 'ip_blocked': return notice('bad', 'Google is blocking this gateway\'s IP', `${a.egress ? `(egress ${a.egress}) ` : ''}for "${a.name}". `, a.until ? el('span', {}, 'The block lifts at ', when(a.until), ` (${fromNow(a.until)}).`) : '', ' Nothing to do but wait, or give the account another egress (gemini proxy).');
    case 'expired': return notice('bad', `The cookies of "${a.name}" have expired.`, `${HOW_TO_COOKIES}${reason}`);
    case 'cooling': return notice('warn', `"${a.name}" is resting`, a.until ? el('span', {}, 'until ', when(a.until), ` (${fromNow(a.until)}).`) : '.', reason);
    case 'blocked': return notice('bad', `"${a.name}" is blocked`, a.until ? el('span', {}, 'until ', when(a.until), ` (${fromNow(a.until)}).`) : '.', reason);
    default: return notice('info', `"${a.name}": ${String(a.state).replace(/_/g, ' ')}.`, reason);
  }
}

// ---- overview --------------------------------------------------------------------------------

let rangeMinutes = 60;
const charts = {};
window.gatewayCharts = charts; // the browser tests read the charts' data (points, not pixels)
const PALETTE = ['#2f5bd3', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#dc2626', '#65a30d', '#db2777', '#475569', '#ca8a04'];
const STATE_COLORS = { ok: '#16a34a', cooling: '#d97706', blocked: '#dc2626', expired: '#991b1b', ip_blocked: '#7c3aed', guest: '#0891b2', no_cookies: '#94a3b8' };

function chartWidth(target) {
  return Math.max(260, target.clientWidth || target.parentElement.clientWidth - 32);
}

/**
 * Draw (or redraw) one uPlot chart. `stacked` turns the series into stacked bars: each series is
 * drawn as the running sum (biggest first), and the legend shows its own value.
 */
function chart(name, target, time, series, { stacked = false, unit = '' } = {}) {
  const raw = series.map((s) => s.values);
  let data = raw;
  if (stacked) {
    const sums = [];
    raw.forEach((values, i) => sums.push(values.map((v, j) => (v ?? 0) + (i ? sums[i - 1][j] : 0))));
    data = sums.slice().reverse();
  }
  const ordered = stacked ? series.slice().reverse() : series;
  const rawOrdered = stacked ? raw.slice().reverse() : raw;
  const opts = {
    width: chartWidth(target),
    height: 200,
    cursor: { points: { show: !stacked } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(stacked ? 1 : 10, max * 1.1)] } },
    axes: [{ stroke: '#667085', grid: { stroke: '#eef0f3' } }, { stroke: '#667085', grid: { stroke: '#eef0f3' }, size: unit === 'ms' ? 64 : 50, values: (_u, ticks) => ticks.map((t) => (unit === 'ms' ? ms(t) : count(t))) }],
    series: [
      { label: 'time', value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })) },
      ...ordered.map((s, i) => ({
        label: s.label,
        stroke: s.color,
        fill: stacked ? s.color : undefined,
        width: stacked ? 0 : 2,
        spanGaps: false,
        paths: stacked ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined,
        // dots only where something happened (a lone minute shows; a flat zero line does not)
        points: { show: !stacked, size: 5, fill: s.color, filter: (u, sidx) => u.data[sidx].flatMap((v, j) => (v ? [j] : [])) },
        value: (_u, _v, _s, idx) => {
          const v = idx == null ? null : rawOrdered[i][idx];
          return v == null ? '—' : unit === 'ms' ? ms(v) : String(v);
        },
      })),
    ],
  };
  charts[name]?.destroy();
  target.replaceChildren();
  const plot = new uPlot(opts, [time, ...data], target);
  plot.raw = Object.fromEntries(series.map((s) => [s.label, s.values]));
  charts[name] = plot;
}

const sum = (values) => values.reduce((a, b) => a + (b ?? 0), 0);

async function showOverview() {
  let usage;
  let accounts = null;
  try {
    usage = await api('GET', `/admin/usage?minutes=${rangeMinutes}`);
  } catch (error) {
    $('#usage-empty').replaceChildren(notice('bad', 'Usage is not available:', error.message));
    return;
  }
  try {
    accounts = (await api('GET', '/admin/cookies/status')).accounts;
  } catch (error) {
    if (error.code !== 'gemini_disabled') accounts = [];
  }
  renderNotices(accounts);

  const s = usage.summary.total;
  const tile = (label, value, key, detail = '') => el('div', { class: 'tile', 'data-tile': key }, el('span', { class: 'tile-label' }, label), el('strong', { 'data-value': key }, value), detail ? el('span', { class: 'hint' }, detail) : '');
  $('#summary').replaceChildren(
    tile('Requests', count(s.requests), 'requests'),
    tile('Errors', count(s.errors), 'errors', s.requests ? `${((100 * s.errors) / s.requests).toFixed(1)} %` : ''),
    tile('Tokens in / out', `${count(s.input_tokens)} / ${count(s.output_tokens)}`, 'tokens'),
    tile('Duration p50 / p90', `${ms(s.duration_ms.p50)} / ${ms(s.duration_ms.p90)}`, 'duration'),
    tile('TTFB p50', ms(s.ttfb_ms.p50), 'ttfb'),
  );
  $('#usage-empty').replaceChildren(
    s.requests === 0
      ? notice('info', `No requests in the last ${rangeMinutes >= 120 ? `${rangeMinutes / 60} hours` : `${rangeMinutes} minutes`}.`, `Point a client at ${location.origin}/v1 with a client token (auth.bearer_token); the charts fill in within seconds.`)
      : '',
  );

  const time = usage.time;
  const names = (group) => Object.keys(group).sort((a, b) => sum(group[b].requests) - sum(group[a].requests));
  const models = names(usage.models);
  chart('requests', $('#chart-requests'), time, models.length ? models.map((m, i) => ({ label: m, values: usage.models[m].requests, color: PALETTE[i % PALETTE.length] })) : [{ label: 'requests', values: usage.total.requests, color: PALETTE[0] }], { stacked: true });
  const kinds = Object.keys(usage.total.errors_by_kind).sort();
  chart('errors', $('#chart-errors'), time, kinds.length ? kinds.map((k, i) => ({ label: k.replace(/_/g, ' '), values: usage.total.errors_by_kind[k], color: PALETTE[(i + 5) % PALETTE.length] })) : [{ label: 'errors', values: usage.total.errors, color: PALETTE[5] }], { stacked: true });
  chart('tokens', $('#chart-tokens'), time, [
    { label: 'input', values: usage.total.input_tokens, color: PALETTE[0] },
    { label: 'output', values: usage.total.output_tokens, color: PALETTE[1] },
  ]);
  const l = usage.total;
  chart('latency', $('#chart-latency'), time, [
    { label: 'TTFB p50', values: l.ttfb_ms.p50, color: '#93c5fd' },
    { label: 'TTFB p90', values: l.ttfb_ms.p90, color: PALETTE[0] },
    { label: 'duration p50', values: l.duration_ms.p50, color: '#fdba74' },
    { label: 'duration p90', values: l.duration_ms.p90, color: PALETTE[2] },
    { label: 'duration p99', values: l.duration_ms.p99, color: PALETTE[5] },
  ], { unit: 'ms' });

  renderTimeline(usage.account_states, time[0], time[time.length - 1] + 60, accounts);

  const byRequests = (group) => Object.keys(group).sort((a, b) => group[b].requests - group[a].requests || a.localeCompare(b));
  const rows = (group) => byRequests(usage.summary[group]).map((n) => {
    const g = usage.summary[group][n];
    return [n, g.requests, g.errors, `${count(g.input_tokens)} / ${count(g.output_tokens)}`, ms(g.duration_ms.p50), ms(g.duration_ms.p90)];
  });
  const head = (first) => [first, 'Requests', 'Errors', 'Tokens in/out', 'p50', 'p90'];
  $('#breakdown').replaceChildren(
    el('h4', {}, 'By model'), table(head('Model'), rows('models'), { 'data-breakdown': 'models', class: 'cards-on-phone' }),
    el('h4', {}, 'By upstream'), table(head('Upstream'), rows('upstreams'), { 'data-breakdown': 'upstreams', class: 'cards-on-phone' }),
    el('h4', {}, 'By Gemini account'), table(head('Account'), rows('accounts'), { 'data-breakdown': 'accounts', class: 'cards-on-phone' }),
  );
}

function renderNotices(accounts) {
  const out = [];
  if (accounts === null) out.push(notice('info', 'Gemini is off.', 'Set gemini.enabled: true in the config to serve Gemini models through web accounts.'));
  else if (accounts.length === 0) out.push(notice('warn', 'No Gemini account yet.', HOW_TO_COOKIES));
  else for (const a of accounts) {
    const n = accountNotice(a);
    if (n) out.push(n);
  }
  $('#notices').replaceChildren(...out);
}

/** One row per account: its states as bars over the range (DOM, so each run has its reason on hover and tap). */
function renderTimeline(rows, from, to, accounts) {
  const target = $('#timeline');
  const detail = $('#timeline-detail');
  detail.textContent = '';
  if (!rows.length) {
    target.replaceChildren(el('p', { class: 'hint' }, accounts === null ? 'none (Gemini is off)' : 'none: no account state sampled in this range yet'));
    return;
  }
  const span = Math.max(60, to - from);
  const seen = new Set();
  target.replaceChildren(
    ...rows.map((row) => {
      const bar = el('div', { class: 'timeline-bar' });
      for (const s of row.segments) {
        const start = Math.max(from, s.from);
        const end = Math.min(to, s.to);
        if (end <= start) continue;
        seen.add(s.state);
        const text = `${row.name}: ${s.state.replace(/_/g, ' ')} ${clock(s.from)}–${clock(s.to)}${s.reason ? ` — ${s.reason}` : ''}${s.until ? ` (until ${new Date(s.until).toLocaleString()})` : ''}`;
        const seg = el('button', { class: 'timeline-seg', title: text, 'aria-label': text, 'data-state': s.state, 'data-from': String(s.from), 'data-to': String(s.to) });
        seg.style.left = `${((start - from) / span) * 100}%`;
        seg.style.width = `${Math.max(0.4, ((end - start) / span) * 100)}%`;
        seg.style.background = STATE_COLORS[s.state] ?? '#64748b';
        seg.addEventListener('click', () => (detail.textContent = text));
        bar.append(seg);
      }
      return el('div', { class: 'timeline-row', 'data-timeline': row.name }, el('span', { class: 'timeline-name' }, row.name), bar);
    }),
    el('div', { class: 'timeline-axis hint' }, el('span', {}, clock(from)), el('span', {}, clock(to))),
    el('div', { class: 'timeline-legend' }, ...[...seen].sort().map((s) => {
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = STATE_COLORS[s] ?? '#64748b';
      return el('span', {}, swatch, s.replace(/_/g, ' '));
    })),
  );
}

// ---- accounts --------------------------------------------------------------------------------

async function showAccounts() {
  const list = $('#account-list');
  const select = $('#cookie-account');
  let accounts;
  try {
    accounts = (await api('GET', '/admin/cookies/status')).accounts;
  } catch (error) {
    $('#account-notices').replaceChildren();
    list.replaceChildren(error.code === 'gemini_disabled' ? notice('info', 'Gemini is off.', 'Set gemini.enabled: true in the config (and reload) to add accounts here.') : el('p', { class: 'error' }, error.message));
    $('#paste-card').hidden = error.code === 'gemini_disabled';
    return;
  }
  $('#paste-card').hidden = false;
  $('#account-notices').replaceChildren(...(accounts.length ? accounts.map(accountNotice).filter(Boolean) : [notice('warn', 'No Gemini account yet.', HOW_TO_COOKIES)]));
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
          el('dt', {}, 'Until'), el('dd', {}, a.until ? el('span', {}, when(a.until), ` (${fromNow(a.until)})`) : '—'),
          el('dt', {}, '__Secure-1PSID'), el('dd', { 'data-field': 'psid' }, a.psid ?? 'none'),
          el('dt', {}, '__Secure-1PSIDTS'), el('dd', {}, a.psidts ?? 'none'),
          el('dt', {}, 'Updated'), el('dd', {}, when(a.updated_at)),
          el('dt', {}, 'Last rotation'), el('dd', {}, a.last_rotation ? el('span', {}, `${a.last_rotation.result} at `, when(a.last_rotation.at)) : '—'),
          el('dt', {}, 'Next rotation'), el('dd', {}, a.next_rotation ? when(a.next_rotation) : a.auto_refresh ? '—' : 'off'),
          ...(a.egress ? [el('dt', {}, 'Egress'), el('dd', {}, a.egress)] : []),
          el('dt', {}, 'Last error'), el('dd', {}, a.last_error ?? '—'),
        ),
        el('div', { class: 'row' }, test, result),
      );
    }),
  );
  const current = select.value;
  select.replaceChildren(...accounts.map((a) => el('option', { value: a.name }, a.name)));
  if (current) select.value = current;
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

// ---- routes, requests --------------------------------------------------------------------------

async function showRoutes() {
  const body = $('#routes-body');
  try {
    const routes = await api('GET', '/admin/routes');
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
  const labels = [...document.querySelectorAll('#requests-table th')].map((th) => th.textContent);
  try {
    const { requests } = await api('GET', '/admin/requests?limit=100');
    if (!requests.length) {
      tbody.replaceChildren(el('tr', { class: 'none' }, el('td', { colspan: '8' }, 'none yet: requests from clients show here as they finish')));
      return;
    }
    tbody.replaceChildren(
      ...requests.map((r) => {
        const cells = [when(r.time), r.protocol, r.model ?? '—', r.provider ?? '—', el('span', { class: r.status >= 400 ? 'error' : '' }, r.status), ms(r.ttfb_ms), ms(r.duration_ms), r.tokens ? `${r.tokens.input} / ${r.tokens.output}` : '—'];
        return el('tr', { 'data-request': r.path }, ...cells.map((c, i) => el('td', { 'data-label': labels[i] }, c)));
      }),
    );
  } catch (error) {
    tbody.replaceChildren(el('tr', {}, el('td', { class: 'error', colspan: '8' }, error.message)));
  }
}

// ---- live log ----------------------------------------------------------------------------------

const LOG_KEEP = 1000;
const log = { controller: undefined, paused: false, held: [], filter: '', retry: undefined };
const LEVEL_NAMES = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function logLine(raw) {
  let entry;
  try {
    entry = JSON.parse(raw);
  } catch {
    entry = { msg: raw };
  }
  const level = typeof entry.level === 'number' ? LEVEL_NAMES[entry.level] ?? String(entry.level) : entry.level ?? 'info';
  const time = entry.time ? new Date(entry.time).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';
  const fields = Object.entries(entry).filter(([k]) => !SKIP.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  const line = el('div', { class: `log-line log-${level}`, 'data-level': level }, el('span', { class: 'log-time' }, time), el('span', { class: 'log-level' }, level), el('span', { class: 'log-msg' }, entry.msg ?? ''), fields ? el('span', { class: 'log-fields' }, fields) : '');
  line.dataset.text = `${level} ${entry.msg ?? ''} ${fields}`.toLowerCase();
  return line;
}

function applyFilter(line) {
  line.hidden = log.filter !== '' && !line.dataset.text.includes(log.filter);
}

function appendLines(raws) {
  const box = $('#log-lines');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  for (const raw of raws) {
    const line = logLine(raw);
    applyFilter(line);
    box.append(line);
  }
  while (box.childElementCount > LOG_KEEP) box.firstElementChild.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function logStatus(text) {
  $('#log-status').textContent = text;
}

async function streamLog() {
  stopLog();
  const controller = new AbortController();
  log.controller = controller;
  logStatus('connecting…');
  try {
    const response = await fetch('/admin/logs/stream?backlog=100', { headers: authHeaders(), signal: controller.signal });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new Error(data?.error?.message ?? `HTTP ${response.status}`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      const lines = [];
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
        const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (event === 'hello') {
          const hello = JSON.parse(data);
          logStatus(`Live at level ${hello.level} (lines below it are not written; change the level in Settings or with "Debug for 10 min"). Secrets are scrubbed.`);
        } else if (event === 'dropped') lines.push(JSON.stringify({ level: 'warn', msg: `${JSON.parse(data).lines} lines skipped (the console could not keep up)` }));
        else if (data) lines.push(data);
      }
      if (!lines.length) continue;
      if (log.paused) {
        log.held.push(...lines);
        if (log.held.length > LOG_KEEP) log.held.splice(0, log.held.length - LOG_KEEP);
        logStatus(`Paused: ${log.held.length} new lines held.`);
      } else appendLines(lines);
    }
    if (!controller.signal.aborted) throw new Error('the gateway closed the stream');
  } catch (error) {
    if (controller.signal.aborted) return;
    logStatus(`Disconnected (${error.message}); retrying in 3 s…`);
    log.retry = setTimeout(() => currentView === 'log' && void streamLog(), 3000);
  }
}

function stopLog() {
  clearTimeout(log.retry);
  log.controller?.abort();
  log.controller = undefined;
}

function togglePause() {
  log.paused = !log.paused;
  const button = $('#log-pause');
  button.textContent = log.paused ? 'Resume' : 'Pause';
  button.setAttribute('aria-pressed', String(log.paused));
  if (log.paused) logStatus('Paused: 0 new lines held.');
  else {
    const held = log.held.splice(0);
    appendLines(held);
    logStatus(`Live (${held.length} held lines added).`);
  }
}

async function showLog() {
  void streamLog();
}

// ---- settings ----------------------------------------------------------------------------------

async function showSettings() {
  try {
    const logging = await api('GET', '/admin/logging');
    $('#level-now').textContent = logging.level;
    $('#level-detail').replaceChildren(logging.override ? el('span', {}, '(override', logging.override.expires_at ? el('span', {}, ' until ', when(logging.override.expires_at)) : '', `; configured: ${logging.configured_level})`) : '(from the config)');
    $('#level-clear').hidden = !logging.override;
    $('#level').value = logging.level;
    const config = await api('GET', '/admin/config');
    const last = config.last_reload;
    $('#reload-last').replaceChildren(last ? el('span', {}, `${last.ok ? 'ok' : 'failed'} (${last.trigger}) at `, when(last.at)) : 'none since start');
  } catch (error) {
    $('#level-now').textContent = error.message;
  }
}

async function setLevel() {
  const ttl = $('#level-ttl').value;
  await api('POST', '/admin/logging', { level: $('#level').value, ...(ttl ? { ttl_seconds: Number(ttl) } : {}) });
  await showSettings();
}

async function clearLevel() {
  await api('DELETE', '/admin/logging');
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

const VIEWS = { overview: showOverview, accounts: showAccounts, routes: showRoutes, requests: showRequests, log: showLog, settings: showSettings };
const REFRESH = { overview: [showOverview, 10_000], requests: [showRequests, 3000] };

async function go(view) {
  clearInterval(refreshTimer);
  if (view !== 'log') stopLog();
  currentView = view;
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== view;
  for (const button of document.querySelectorAll('nav [data-view]')) button.classList.toggle('active', button.dataset.view === view);
  location.hash = view;
  await VIEWS[view]();
  if (REFRESH[view]) refreshTimer = setInterval(() => void REFRESH[view][0](), REFRESH[view][1]);
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
  await go(VIEWS[location.hash.slice(1)] ? location.hash.slice(1) : 'overview');
}

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void login($('#token').value.trim());
  });
  $('#logout').addEventListener('click', () => {
    stopLog();
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  for (const button of document.querySelectorAll('nav [data-view]')) button.addEventListener('click', () => void go(button.dataset.view));
  for (const button of document.querySelectorAll('[data-range]')) {
    button.addEventListener('click', () => {
      rangeMinutes = Number(button.dataset.range);
      for (const b of document.querySelectorAll('[data-range]')) b.classList.toggle('active', b === button);
      void showOverview();
    });
  }
  $('#cookie-check').addEventListener('click', () => void cookieAction('check'));
  $('#cookie-save').addEventListener('click', () => void cookieAction('save'));
  $('#level-set').addEventListener('click', () => void setLevel());
  $('#level-clear').addEventListener('click', () => void clearLevel());
  $('#reload').addEventListener('click', () => void reload());
  $('#log-filter').addEventListener('input', () => {
    log.filter = $('#log-filter').value.trim().toLowerCase();
    for (const line of document.querySelectorAll('#log-lines .log-line')) applyFilter(line);
  });
  $('#log-pause').addEventListener('click', togglePause);
  $('#log-clear').addEventListener('click', () => $('#log-lines').replaceChildren());
  $('#log-debug').addEventListener('click', async () => {
    await api('POST', '/admin/logging', { level: 'debug', ttl_seconds: 600 });
    void streamLog();
  });
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [name, plot] of Object.entries(charts)) plot.setSize({ width: chartWidth(document.getElementById(`chart-${name}`)), height: 200 });
    }, 150);
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void login(saved);
});
