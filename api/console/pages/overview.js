import { api } from '../app.js';
import { h, fill, svg, seconds, table, when, statusBadge } from '../ui.js';

/** Milliseconds as the overview shows them; a dash when nothing was measured. */
function ms(value) {
  return value === null || value === undefined ? '—' : `${value} ms`;
}

function kpi(label, value) {
  return h('div', { class: 'kpi' }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}

function percent(x) {
  return x === null || x === undefined ? '—' : `${Math.round(x * 100)} %`;
}

/** Bars of calls (and answered calls) per bucket, drawn as SVG. */
function chart(series) {
  const buckets = series.buckets;
  if (!buckets.length) return h('p', { class: 'muted' }, 'No calls in this period.');
  const width = 640; const height = 180; const pad = 24;
  const max = Math.max(1, ...buckets.map((b) => b.calls));
  const step = (width - pad) / buckets.length;
  const bar = Math.max(2, step * 0.7);
  const y = (n) => height - pad - (n / max) * (height - 2 * pad);
  const bars = buckets.flatMap((b, i) => {
    const x = pad + i * step;
    return [
      svg('rect', { class: 'bar', x, y: y(b.calls), width: bar, height: height - pad - y(b.calls) },
        svg('title', {}, `${b.start.slice(0, 10)}: ${b.calls} calls, ${b.answered} answered`)),
      svg('rect', { class: 'bar answered', x, y: y(b.answered), width: bar / 2, height: height - pad - y(b.answered) }),
    ];
  });
  const labels = buckets.map((b, i) => (i % Math.ceil(buckets.length / 8) === 0
    ? svg('text', { x: pad + i * step, y: height - 6 }, b.start.slice(5, series.bucket === 'hour' ? 13 : 10))
    : null)).filter(Boolean);
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Calls per ${series.bucket}, most ${max}` },
      svg('text', { x: 0, y: 12 }, String(max)), ...bars, ...labels),
    h('figcaption', { class: 'legend' }, `Calls per ${series.bucket} (light) and answered (dark), ${series.time_zone}`));
}

export async function render(main) {
  const [kpis, series, outcomes, attention] = await Promise.all([
    api('/v1/overview/kpis'),
    api('/v1/overview/calls-over-time'),
    api('/v1/overview/outcomes'),
    api('/v1/overview/needs-attention?limit=10'),
  ]);
  fill(main, 
    h('h1', {}, 'Overview'),
    h('p', { class: 'muted' }, `${when(kpis.from)} – ${when(kpis.to)}`),
    h('section', { class: 'kpis', 'aria-label': 'Key figures' },
      kpi('Calls', kpis.total_calls),
      kpi('Answered', kpis.answered_calls),
      kpi('Answer rate', percent(kpis.answer_rate)),
      kpi('Average handle time', seconds(kpis.average_handle_time_secs)),
      kpi('Voice-to-voice (median)', ms(kpis.voice_to_voice_p50_ms)),
      kpi('Voice-to-voice (p90)', ms(kpis.voice_to_voice_p90_ms)),
      kpi('Appointments booked', kpis.appointments_booked),
      kpi('Transfers', kpis.transfers),
      kpi('Need attention', kpis.needs_attention)),
    h('section', { class: 'panel' }, h('h2', {}, 'Calls over time'), chart(series)),
    h('section', { class: 'panel' }, h('h2', {}, 'Outcomes'),
      table('Calls by outcome', [
        ['Outcome', (r) => statusBadge(r.key)],
        ['Calls', (r) => r.calls],
      ], outcomes.by_outcome, 'No calls yet.')),
    h('section', { class: 'panel' }, h('h2', {}, 'Needs attention'),
      table('Calls the analysis flagged', [
        ['Started', (r) => h('a', { href: `#/calls/${r.call_id}` }, when(r.started_at))],
        ['Class', (r) => r.outcome_class || '—'],
        ['Summary', (r) => r.summary || '—'],
      ], attention.data, 'Nothing needs attention.')),
  );
}
