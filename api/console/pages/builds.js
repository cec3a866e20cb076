import { api, follow } from '../app.js';
import { h, fill, field, statusBadge } from '../ui.js';

const STEPS = { crawl: 'Read the website', extract: 'Find the facts', generate: 'Write the agent',
  provision: 'Get a phone number', deploy: 'Go live', update: 'Update the knowledge' };

function startForm() {
  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: 'https://www.example.com' });
  const name = h('input', { name: 'name' });
  const area = h('input', { name: 'area_code', inputmode: 'numeric', pattern: '[0-9]{3}', size: 4 });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack panel', 'aria-label': 'Build an agent from a website' },
    field('Website', url), field('Agent name (optional)', name), field('Area code for its number (optional)', area),
    h('button', { type: 'submit' }, 'Build the agent'), error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = { url: url.value };
    if (name.value.trim()) body.name = name.value.trim();
    if (area.value.trim()) body.area_code = area.value.trim();
    try {
      const started = await api('/v1/agent-builds', { method: 'POST', body });
      location.hash = `#/builds/${started.build_id}`;
    } catch (e) {
      error.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
    }
  });
  return form;
}

async function watch(main, id, signal) {
  const build = await api(`/v1/agent-builds/${id}`);
  const steps = h('ol', { class: 'timeline', id: 'build-steps', 'aria-live': 'polite' });
  const outcome = h('div', { id: 'build-outcome', 'aria-live': 'polite' });
  const items = new Map();
  const show = (step, phase, detail) => {
    let li = items.get(step);
    if (!li) {
      li = h('li', { 'data-step': step });
      items.set(step, li);
      steps.append(li);
    }
    li.dataset.phase = phase;
    const figures = detail && typeof detail === 'object'
      ? Object.entries(detail).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k.replaceAll('_', ' ')} ${v}`).join(', ')
      : '';
    fill(li, statusBadge(phase === 'finished' ? 'completed' : phase), ' ', STEPS[step] || step, figures ? ` — ${figures}` : '');
  };
  const finish = async () => {
    const done = await api(`/v1/agent-builds/${id}`);
    fill(outcome, 
      h('p', {}, 'Build ', statusBadge(done.state), done.elapsed_ms ? ` in ${(done.elapsed_ms / 1000).toFixed(1)} s` : ''),
      done.phone_number ? h('p', { id: 'build-number' }, 'Call your new agent on ', h('strong', {}, done.phone_number)) : null,
      done.error ? h('p', { class: 'error' }, done.error) : null,
      Object.keys(done.categories).length ? h('p', {}, 'Knowledge: ', Object.entries(done.categories).map(([k, n]) => `${k} ${n}`).join(', ')) : null);
  };
  fill(main, 
    h('p', {}, h('a', { href: '#/builds' }, '← New build')),
    h('h1', {}, `Building from ${build.url}`), steps, outcome);
  follow(`/v1/agent-builds/${id}/events`, (name, data) => {
    if (name === 'step') show(data.step, data.phase, data.detail);
    if (name === 'end') finish();
  }, signal);
}

export async function render(main, { args, signal }) {
  if (args[0]) return watch(main, args[0], signal);
  fill(main, h('h1', {}, 'Agent builder'),
    h('p', {}, 'Give a website: Switchboard reads it, writes an agent that knows the business, and gives it a phone number.'),
    startForm());
  return undefined;
}

