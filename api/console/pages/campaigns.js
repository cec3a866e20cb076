import { api, can, act } from '../app.js';
import { h, fill, when, table, field, statusBadge } from '../ui.js';

/** Polls `load` every second while the page is open, without reloading it. */
function every(signal, ms, load) {
  const timer = setInterval(() => { if (!signal.aborted) load().catch(() => {}); }, ms);
  signal.addEventListener('abort', () => clearInterval(timer));
}

async function createForm() {
  const [agents, scripts] = await Promise.all([
    api('/v1/agents'),
    can('scripts:read') ? api('/v1/scripts') : Promise.resolve({ data: [] }),
  ]);
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const agent = h('select', { name: 'agent_id' }, agents.data.map((a) => h('option', { value: a.id }, a.name)));
  const script = h('select', { name: 'script_id' }, h('option', { value: '' }, 'none'),
    scripts.data.map((s) => h('option', { value: s.id }, s.name)));
  const concurrency = h('input', { name: 'concurrency', type: 'number', min: 1, max: 100, value: 2 });
  const rate = h('input', { name: 'calls_per_second', type: 'number', min: 1, max: 10, value: 1 });
  const form = h('form', { class: 'stack panel', 'aria-label': 'New campaign' },
    h('h2', {}, 'New campaign'), field('Name', name), field('Agent', agent), field('Script', script),
    field('Calls at once', concurrency), field('Calls per second', rate),
    h('button', { type: 'submit' }, 'Create campaign'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await act(() => api('/v1/campaigns', {
      method: 'POST',
      body: {
        name: name.value, agent_id: agent.value, script_id: script.value || null,
        settings: { concurrency: Number(concurrency.value), calls_per_second: Number(rate.value) },
      },
    }), `Campaign ${name.value} created`);
    location.hash = `#/campaigns/${created.id}`;
  });
  return form;
}

async function list(main) {
  const campaigns = await api('/v1/campaigns?limit=100');
  fill(main, 
    h('h1', {}, 'Campaigns'),
    table('Campaigns', [
      ['Name', (c) => h('a', { href: `#/campaigns/${c.id}` }, c.name)],
      ['Status', (c) => statusBadge(c.status)],
      ['Created', (c) => when(c.created_at), true],
    ], campaigns.data, 'No campaigns yet.'),
    can('campaigns:write') ? await createForm() : null);
}

function uploadForm(id, report) {
  const file = h('input', { type: 'file', name: 'csv', accept: '.csv,text/csv', required: true });
  const form = h('form', { class: 'row panel', 'aria-label': 'Upload people to call' },
    field('People to call (CSV: Name, Phone, Time Zone)', file), h('button', { type: 'submit' }, 'Upload'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = await file.files[0].text();
    const result = await act(() => api(`/v1/campaigns/${id}/targets`, { method: 'POST', body: text }));
    fill(report, 
      h('p', { id: 'upload-summary' }, `${result.accepted} rows accepted (${result.added} new), ${result.rejected_total} rejected.`),
      table('Rejected rows', [
        ['Line', (r) => r.line],
        ['Reason', (r) => r.reason],
        ['Column', (r) => r.field || '—'],
        ['Detail', (r) => r.detail],
      ], result.rejected, 'No row was rejected.'));
  });
  return form;
}

const CONTROLS = { draft: ['start'], paused: ['resume', 'cancel'], running: ['pause', 'cancel'] };

async function detail(main, id, signal) {
  const campaign = await api(`/v1/campaigns/${id}`);
  const status = h('span', { id: 'campaign-status' }, statusBadge(campaign.status));
  const counts = h('dl', { id: 'campaign-progress', class: 'kpis' });
  const controls = h('div', { class: 'row', role: 'group', 'aria-label': 'Campaign controls' });
  const report = h('div', { 'aria-live': 'polite' });
  const render = (progress) => {
    fill(status, statusBadge(progress.status));
    fill(counts, ...Object.entries(progress.targets).map(([state, n]) =>
      h('div', { class: 'kpi' }, h('dt', { class: 'label' }, state.replaceAll('_', ' ')), h('dd', { class: 'value' }, n))));
    if (progress.workflow) {
      counts.append(h('div', { class: 'kpi' }, h('dt', { class: 'label' }, 'live calls'), h('dd', { class: 'value' }, progress.workflow.live)));
    }
    if (!can('campaigns:write')) return;
    fill(controls, ...(CONTROLS[progress.status] || []).map((action) => h('button', {
      type: 'button', class: action === 'cancel' ? 'danger' : '',
      onclick: () => act(() => api(`/v1/campaigns/${id}/${action}`, { method: 'POST' }), `Campaign ${action} sent`).then(refresh),
    }, action[0].toUpperCase() + action.slice(1))));
  };
  const refresh = async () => render(await api(`/v1/campaigns/${id}/progress`));
  fill(main, 
    h('p', {}, h('a', { href: '#/campaigns' }, '← Campaigns')),
    h('h1', {}, campaign.name),
    h('p', { class: 'row' }, 'Status: ', status),
    controls, counts,
    can('campaigns:write') && campaign.status === 'draft' ? uploadForm(id, report) : null,
    report);
  await refresh();
  every(signal, 1000, refresh);
}

export async function render(main, { args, signal }) {
  if (args[0]) return detail(main, args[0], signal);
  return list(main);
}
