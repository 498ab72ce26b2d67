/**
 * A minimal dashboard served until the Svelte renderer lands: it reads the
 * token from the URL fragment (never sent to a server) and shows /api/status.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Waku Keeper</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { color-scheme: light dark; font: 15px/1.5 system-ui, sans-serif; }
  body { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; } pre { overflow: auto; font-size: 12px; }
</style></head>
<body><h1>Waku Keeper</h1><p id="state">Loading…</p><dl id="facts"></dl>
<details><summary>Full status</summary><pre id="raw"></pre></details>
<script src="/dashboard.js"></script></body></html>
`;

export const DASHBOARD_JS = `
const token = new URLSearchParams(location.hash.slice(1)).get('token');
async function refresh() {
  const state = document.getElementById('state');
  if (!token) { state.textContent = 'Open the dashboard URL printed by waku-keeper: it carries the access token.'; return; }
  try {
    const res = await fetch('/api/status', { headers: { Authorization: 'Bearer ' + token } });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const s = await res.json();
    state.textContent = 'Node ' + s.state + ' since ' + new Date(s.startedAtMs).toLocaleString();
    const facts = [['Peer id', s.peerId], ['Peers', s.peers.length], ['Messages', s.archive.messages],
      ['Archive', (s.archive.bytes / 1e6).toFixed(1) + ' MB of ' + (s.archive.quotaBytes / 1e9).toFixed(1) + ' GB'],
      ['Topics', s.pubsubTopics.join(', ')]];
    const dl = document.getElementById('facts');
    dl.replaceChildren(...facts.flatMap(([k, v]) => { const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = String(v); return [dt, dd]; }));
    document.getElementById('raw').textContent = JSON.stringify(s, null, 2);
  } catch (err) { state.textContent = 'Cannot reach the node: ' + err.message; }
}
refresh(); setInterval(refresh, 5000);
`;
