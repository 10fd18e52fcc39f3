// The toolbar popup: where the cookies go, the last verdict, "Send now", a link to the options.
'use strict';

const { api } = GG;
const $ = (id) => document.getElementById(id);

function show(verdict) {
  const el = $('verdict');
  el.className = `verdict ${verdict.ok ? 'ok' : 'error'}`;
  el.textContent = `${verdict.message}\n${GG.when(verdict.time)} · ${verdict.trigger}`;
}

$('sync').addEventListener('click', () => {
  $('verdict').className = 'verdict';
  $('verdict').textContent = 'Sending…';
  api.runtime.sendMessage({ type: 'sync' }).then((verdict) => verdict && show(verdict));
});
$('options').addEventListener('click', () => api.runtime.openOptionsPage());

(async () => {
  const s = await GG.settings();
  $('target').textContent = s.gateway ? `To ${s.gateway} · account ${s.account || 'default'} · every ${s.interval} min` : 'Not configured yet.';
  const { verdict } = await api.storage.local.get('verdict');
  if (verdict) show(verdict);
})();
