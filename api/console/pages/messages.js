import { api, can, act } from '../app.js';
import { h, fill, mask, when, statusBadge, table } from '../ui.js';

const STATUSES = ['new', 'read', 'handled'];

export async function render(main) {
  const page = await api('/v1/messages?limit=100');
  const editable = can('messages:write');
  const statusCell = (m) => {
    if (!editable) return statusBadge(m.status);
    const select = h('select', { 'aria-label': `Status of the message from ${m.caller_name}` },
      STATUSES.map((s) => h('option', { value: s, selected: s === m.status }, s)));
    select.addEventListener('change', () => act(
      () => api(`/v1/messages/${m.id}`, { method: 'PATCH', body: { status: select.value } }),
      `Message marked ${select.value}`));
    return select;
  };
  fill(main, 
    h('h1', {}, 'Messages'),
    table('Messages callers left', [
      ['Received', (m) => when(m.created_at)],
      ['For', (m) => m.for_whom || '—'],
      ['From', (m) => m.caller_name],
      ['Call back on', (m) => mask(m.callback_number), true],
      ['Message', (m) => m.body],
      ['Delivered', (m) => m.delivered_via.join(', ') || '—', true],
      ['Status', statusCell],
    ], page.data, 'No messages yet.'));
}
