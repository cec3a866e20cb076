import { follow } from '../app.js';
import { h, fill, mask, when, clock, statusBadge } from '../ui.js';

/** The tenant's calls in progress; each card's transcript grows as the words are stored. */
export async function render(main, { signal }) {
  const grid = h('div', { class: 'live-calls', 'aria-live': 'polite' });
  const empty = h('p', { class: 'muted', id: 'no-live-calls' }, 'No calls in progress.');
  fill(main, h('h1', {}, 'Live calls'), empty, grid);
  const cards = new Map();

  const card = (call) => {
    const transcript = h('ol', { class: 'transcript', 'aria-label': 'Transcript so far' });
    const status = h('span', {}, statusBadge(call.status));
    const el = h('article', { class: 'panel live-call', 'data-call-id': call.id, 'aria-label': `Call from ${mask(call.from)}` },
      h('h2', {}, `${call.direction === 'inbound' ? 'From' : 'To'} ${mask(call.direction === 'inbound' ? call.from : call.to)}`),
      h('p', { class: 'row' }, status, `started ${when(call.started_at)}`,
        h('a', { href: `#/calls/${call.id}` }, 'Open')),
      transcript);
    cards.set(call.id, { el, transcript, status });
    grid.prepend(el);
    empty.hidden = true;
  };

  follow('/v1/calls/live', (name, data) => {
    if (name === 'call' && !cards.has(data.id)) card(data);
    if (name === 'segment') {
      const c = cards.get(data.call_id);
      if (!c) return;
      c.transcript.append(h('li', { class: data.speaker, 'data-stored-at': data.stored_at },
        h('p', { class: 'who' }, `${data.speaker === 'agent' ? 'Agent' : 'Caller'} · ${clock(data.start_ms)}`),
        data.text,
        data.interrupted ? h('span', { class: 'interrupted' }, ' — interrupted') : null));
      // The time it reached the page, for the live-update latency (read by the tests).
      c.transcript.lastElementChild.dataset.shownAt = new Date().toISOString();
    }
    if (name === 'ended') {
      const c = cards.get(data.id);
      if (!c) return;
      fill(c.status, statusBadge(data.outcome || data.status), ' ended');
      c.el.classList.add('ended');
      setTimeout(() => {
        c.el.remove();
        cards.delete(data.id);
        empty.hidden = cards.size > 0;
      }, 30000);
    }
  }, signal);
}
