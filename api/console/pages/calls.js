import { api, can, act } from '../app.js';
import { h, fill, mask, when, exact, seconds, clock, statusBadge, table, field } from '../ui.js';

const OUTCOMES = ['completed', 'voicemail', 'no_answer', 'busy', 'failed', 'canceled', 'max_duration_reached'];

function filtersForm(params, onChange) {
  const input = (name, attrs = {}) => h('input', { name, value: params.get(name) || '', ...attrs });
  const select = (name, options) => h('select', { name },
    h('option', { value: '' }, 'any'),
    options.map((o) => h('option', { value: o, selected: params.get(name) === o }, o)));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter calls' },
    field('From', input('from', { type: 'date' })),
    field('Until', input('until', { type: 'date' })),
    field('Direction', select('direction', ['inbound', 'outbound'])),
    field('Outcome', select('outcome', OUTCOMES)),
    field('Number (digits)', input('number', { inputmode: 'numeric', size: 8, pattern: '[0-9 +-]*' })),
    field('Agent id', input('agent_id', { size: 12 })),
    field('Campaign id', input('campaign_id', { size: 12 })),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) next.set(k, String(v).trim());
    onChange(next);
  });
  return form;
}

async function list(main, args) {
  const params = new URLSearchParams(args[0] ? args[0].replace(/^\?/, '') : '');
  const results = h('div', { 'aria-live': 'polite' });
  const go = (next) => { location.hash = `#/calls/?${next}`; };
  fill(main, h('h1', {}, 'Calls'), filtersForm(params, go), results);
  const load = async (cursor) => {
    const query = new URLSearchParams(params);
    query.set('limit', '50');
    if (cursor) query.set('cursor', cursor);
    const page = await api(`/v1/calls?${query}`);
    const more = page.next_cursor
      ? h('button', { type: 'button', class: 'secondary', onclick: async (e) => { e.target.remove(); await load(page.next_cursor); } }, 'Older calls')
      : null;
    results.append(table('Calls', [
      ['Started', (c) => h('a', { href: `#/calls/${c.id}` }, when(c.started_at))],
      ['Direction', (c) => c.direction],
      ['From', (c) => mask(c.from), true],
      ['To', (c) => mask(c.to), true],
      ['Duration', (c) => seconds(c.duration_secs)],
      ['Outcome', (c) => statusBadge(c.outcome || c.status)],
    ], page.data, 'No calls match.'), more || '');
  };
  await load(null);
}

function transcriptList(segments) {
  if (!segments.length) return h('p', { class: 'muted' }, 'No words were exchanged.');
  return h('ol', { class: 'transcript', 'aria-label': 'Transcript' }, segments.map((s) => h('li', { class: s.speaker },
    h('p', { class: 'who' }, `${s.speaker === 'agent' ? 'Agent' : 'Caller'} · ${clock(s.start_ms)}`),
    s.text,
    s.interrupted ? h('span', { class: 'interrupted' }, ' — interrupted') : null)));
}

/** The call's recording: the player streams it by byte range through its signed link. */
function recordingPlayer(recording) {
  if (!recording) return h('p', { class: 'muted' }, 'This call was not recorded.');
  return h('div', {},
    h('audio', { controls: true, preload: 'metadata', src: recording.player_url, 'aria-label': 'Call recording' }),
    h('p', { class: 'muted' }, `${seconds(recording.duration_ms / 1000)}, stereo: the caller on the left, the agent on the right.`));
}

function analysisPanel(analysis) {
  if (!analysis) return h('p', { class: 'muted' }, 'No analysis yet.');
  const rows = Object.entries(analysis).filter(([, v]) => v !== null && v !== '' && typeof v !== 'object');
  return h('dl', {}, rows.flatMap(([k, v]) => [h('dt', {}, k.replaceAll('_', ' ')), h('dd', {}, String(v))]));
}

function timeline(call) {
  const items = [[call.started_at, `Call started (${call.direction})`]];
  if (call.answered_at) items.push([call.answered_at, 'Answered']);
  for (const t of call.transfers) {
    items.push([t.started_at, `Warm transfer to ${t.target_name}`]);
    if (t.ended_at) items.push([t.ended_at, `Transfer ${t.stage}${t.reason ? `: ${t.reason}` : ''}`]);
  }
  for (const t of call.tool_calls) {
    items.push([t.at, h('span', { class: 'tool-call' }, 'Tool ', h('code', {}, t.name), ` (${t.duration_ms} ms)`,
      h('details', {}, h('summary', {}, 'arguments and result'),
        h('pre', {}, t.arguments), h('pre', {}, t.result)))]);
  }
  if (call.ended_at) items.push([call.ended_at, `Ended: ${call.outcome || call.status}`]);
  items.sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
  return h('ol', { class: 'timeline' }, items.map(([at, what]) => h('li', {}, h('time', { datetime: at }, exact(at)), ' — ', what)));
}

/** How fast the agent answered, as the media bridge measured it. */
function latencyLine(latency) {
  if (!latency) return null;
  return h('p', { id: 'call-latency' }, `Voice-to-voice: median ${latency.p50_ms} ms, p90 ${latency.p90_ms} ms, slowest ${latency.max_ms} ms over ${latency.replies} ${latency.replies === 1 ? 'reply' : 'replies'}.`);
}

async function detail(main, id) {
  const call = await api(`/v1/calls/${encodeURIComponent(id)}`);
  const resolve = call.needs_attention && can('calls:write')
    ? h('button', { type: 'button', onclick: () => act(() => api(`/v1/calls/${call.id}/resolve`, { method: 'POST' }), 'Marked as resolved') }, 'Mark resolved')
    : null;
  fill(main, 
    h('p', {}, h('a', { href: '#/calls' }, '← Calls')),
    h('h1', {}, `Call ${when(call.started_at)}`),
    h('section', { class: 'panel' },
      h('div', { class: 'row' }, statusBadge(call.outcome || call.status), h('span', {}, call.direction),
        h('span', {}, `${mask(call.from)} → ${mask(call.to)}`), h('span', {}, seconds(call.duration_secs)), resolve),
      h('p', {}, 'History: ', h('a', { href: call.history_url, rel: 'noopener' }, call.workflow_id), ' in the Temporal UI'),
      latencyLine(call.voice_to_voice)),
    h('section', { class: 'panel' }, h('h2', {}, 'Timeline'), timeline(call)),
    h('section', { class: 'panel' }, h('h2', {}, 'Recording'), recordingPlayer(call.recording)),
    h('section', { class: 'panel' }, h('h2', {}, 'Transcript'), transcriptList(call.transcript)),
    h('section', { class: 'panel' }, h('h2', {}, 'Analysis'), analysisPanel(call.analysis)),
  );
}

export async function render(main, { args }) {
  if (args[0] && !args[0].startsWith('?')) return detail(main, args[0]);
  return list(main, args);
}

export { transcriptList };
