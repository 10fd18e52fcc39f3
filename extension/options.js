// Options: gateway URL, admin token, account, interval; Save (asks for the gateway host
// permission, stores the settings in extension storage, syncs now) and Test (asks the gateway to
// verify the cookies without saving them, /admin/cookies/check).
'use strict';

const { api } = GG;
const $ = (id) => document.getElementById(id);

// permissions.request() must run straight from the click (Firefox drops the user gesture after an
// await), so whether Google's host permission is still missing is known before the click.
let googleGranted = true;
const refreshGoogle = () => api.permissions.contains({ origins: [GG.GOOGLE] }).then((yes) => (googleGranted = yes));

function form() {
  return {
    gateway: $('gateway').value.trim(),
    token: $('token').value.trim(),
    account: $('account').value.trim(),
    interval: Math.min(1440, Math.max(1, Math.round(Number($('interval').value)) || GG.DEFAULTS.interval)),
  };
}

function show(el, verdict) {
  el.className = `verdict ${verdict.ok ? 'ok' : 'error'}`;
  const time = GG.when(verdict.time);
  el.textContent = `${verdict.message}${time ? `\n${time}` : ''}${verdict.trigger ? ` · ${verdict.trigger}` : ''}`;
}

/** Ask for the gateway's host (and Google's, if withdrawn); resolves to the base URL or throws. */
function permit(values) {
  const base = GG.gatewayUrl(values.gateway); // throws on a bad URL, before any prompt
  const origins = [GG.originPattern(base)];
  if (!googleGranted) origins.push(GG.GOOGLE);
  return api.permissions.request({ origins }).then((granted) => {
    if (!granted) throw new Error(`Permission to reach ${base.origin} was not granted`);
    return base;
  });
}

/**
 * The form's values and the host permission asked for them. Called synchronously from the click:
 * Firefox drops the user gesture after an await. Undefined (with the error shown) when refused.
 */
function begin(progress) {
  const values = form();
  const result = $('test-result');
  try {
    const asked = permit(values);
    result.className = 'verdict';
    result.textContent = progress;
    return { values, result, asked };
  } catch (error) {
    show(result, { ok: false, message: error.message });
    return undefined;
  }
}

$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  const action = begin('Saving…');
  if (!action) return;
  const { values, result, asked } = action;
  asked
    .then(() => api.storage.local.set(values))
    .then(() => api.runtime.sendMessage({ type: 'sync', trigger: 'save' }))
    .then((verdict) => {
      result.textContent = '';
      if (verdict) show($('verdict'), verdict);
    })
    .catch((error) => show(result, { ok: false, message: error.message }))
    .finally(refreshGoogle);
});

$('test').addEventListener('click', () => {
  const action = begin('Asking the gateway…');
  if (!action) return;
  const { values, result, asked } = action;
  asked
    .then(() => api.runtime.sendMessage({ type: 'test', settings: values }))
    .then((verdict) => show(result, verdict ?? { ok: false, message: 'No answer from the background' }))
    .catch((error) => show(result, { ok: false, message: error.message }))
    .finally(refreshGoogle);
});

api.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && changes.verdict?.newValue) show($('verdict'), changes.verdict.newValue);
});

(async () => {
  await refreshGoogle();
  const s = await GG.settings();
  $('gateway').value = s.gateway;
  $('token').value = s.token;
  $('account').value = s.account;
  $('interval').value = String(s.interval);
  const { verdict } = await api.storage.local.get('verdict');
  if (verdict) show($('verdict'), verdict);
  document.body.dataset.ready = '1';
})();
