import { api, can, act, route } from '../app.js';
import { h, fill, when, table, field } from '../ui.js';

function agentForm(onSaved) {
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const greeting = h('textarea', { name: 'greeting', required: true });
  const instructions = h('textarea', { name: 'instructions', required: true });
  const engine = h('select', { name: 'engine' },
    ['offline', 'openai_realtime', 'gemini_live', 'cascaded', 'echo'].map((e) => h('option', { value: e }, e)));
  const form = h('form', { class: 'stack panel', 'aria-label': 'New agent' },
    h('h2', {}, 'New agent'),
    field('Name', name), field('Greeting', greeting), field('Instructions', instructions),
    field('Engine', engine), h('button', { type: 'submit' }, 'Create agent'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await act(() => api('/v1/agents', {
      method: 'POST',
      body: { name: name.value, greeting: greeting.value, instructions: instructions.value, engine: engine.value },
    }), `Agent ${name.value} created`);
    onSaved();
  });
  return form;
}

export async function render(main) {
  const [agents, numbers] = await Promise.all([
    api('/v1/agents'),
    can('numbers:read') ? api('/v1/phone-numbers') : Promise.resolve({ data: [] }),
  ]);
  const numbersOf = (agent) => numbers.data.filter((n) => n.agent_id === agent.id).map((n) => n.phone_number).join(', ') || '—';
  fill(main, 
    h('h1', {}, 'Agents'),
    table('Agents', [
      ['Name', (a) => a.name],
      ['Engine', (a) => a.engine],
      ['Greeting', (a) => a.greeting, true],
      ['Numbers', numbersOf],
      ['Created', (a) => when(a.created_at), true],
    ], agents.data, 'No agents yet.'),
    can('agents:write') ? agentForm(route) : null);
}
