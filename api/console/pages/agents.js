import { api, can, act, route } from '../app.js';
import { h, fill, when, table, field, statusBadge } from '../ui.js';
import { talkPanel } from './talk.js';

const ENGINES = ['offline', 'openai_realtime', 'gemini_live', 'cascaded', 'echo'];
/** The 18 knowledge categories, as the API spells them. */
const CATEGORIES = ['business_information', 'products_services', 'support_faq', 'company_history',
  'policies', 'processes_procedures', 'events_news', 'technical_specs', 'pricing_billing',
  'inventory_stock', 'legal_compliance', 'partnerships', 'marketing_promotions',
  'training_education', 'quality_standards', 'feedback_reviews', 'emergency_contact',
  'custom_business_logic'];

function agentForm(onSaved) {
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const greeting = h('textarea', { name: 'greeting', required: true });
  const instructions = h('textarea', { name: 'instructions', required: true });
  const engine = h('select', { name: 'engine' },
    ENGINES.map((e) => h('option', { value: e }, e)));
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

function settings(agent) {
  const rows = [['Greeting', agent.greeting], ['Instructions', agent.instructions],
    ['Engine', agent.engine], ['Voice', agent.voice || 'default'], ['Language', agent.language],
    ['Tools', agent.tools.join(', ')], ['Records calls', agent.record_calls ? 'yes, with a disclosure' : 'no']];
  return h('section', { class: 'panel', 'aria-label': 'Agent settings' }, h('h2', {}, 'Settings'),
    h('dl', {}, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

function editForm(agent) {
  const editable = true;
  const input = (name, value) => h('input', { name, value: value || '', disabled: !editable });
  const text = (name, value) => {
    const t = h('textarea', { name, disabled: !editable });
    t.value = value || '';
    return t;
  };
  const fields = {
    name: input('name', agent.name),
    greeting: text('greeting', agent.greeting),
    instructions: text('instructions', agent.instructions),
    engine: h('select', { name: 'engine', disabled: !editable },
      ENGINES.map((e) => h('option', { value: e, selected: e === agent.engine }, e))),
    voice: input('voice', agent.voice),
  };
  // The tools the agent may call; end_call is always on (a call must be able to end).
  const tools = agent.available_tools.map((name) => h('input', {
    type: 'checkbox', name: 'tools', value: name, checked: agent.tools.includes(name), disabled: name === 'end_call',
  }));
  const toolSet = h('fieldset', { class: 'tools' }, h('legend', {}, 'Tools'),
    tools.map((box) => h('label', {}, box, ' ', box.value.replaceAll('_', ' '))));
  const record = h('input', { type: 'checkbox', name: 'record_calls', checked: agent.record_calls });
  const form = h('form', { class: 'stack panel', 'aria-label': 'Agent settings' },
    h('h2', {}, 'Settings'),
    field('Name', fields.name), field('Greeting', fields.greeting),
    field('Instructions', fields.instructions), field('Engine', fields.engine), field('Voice', fields.voice),
    toolSet,
    h('label', {}, record, ' Record calls (callers first hear "This call may be recorded.")'),
    editable ? h('button', { type: 'submit' }, 'Save') : null);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value]));
    body.tools = tools.filter((box) => box.checked).map((box) => box.value);
    body.record_calls = record.checked;
    if (!body.voice) delete body.voice;
    await act(() => api(`/v1/agents/${agent.id}`, { method: 'PATCH', body }), 'Agent saved');
  });
  return form;
}

function numbersPanel(agent, numbers) {
  const editable = can('numbers:write');
  const rows = numbers.data.map((n) => {
    const mine = n.agent_id === agent.id;
    const toggle = editable ? h('button', {
      type: 'button', class: 'secondary',
      onclick: () => act(() => api(`/v1/phone-numbers/${n.id}`, { method: 'PATCH', body: { agent_id: mine ? null : agent.id } }),
        mine ? 'Number released from this agent' : 'Number assigned').then(route),
    }, mine ? 'Unassign' : 'Assign here') : null;
    return h('li', { class: 'row' }, h('span', {}, n.phone_number), mine ? statusBadge('active') : h('span', { class: 'muted' }, n.agent_id ? 'another agent' : 'free'), toggle);
  });
  return h('section', { class: 'panel', 'aria-label': 'Phone numbers' }, h('h2', {}, 'Phone numbers'),
    rows.length ? h('ul', { id: 'agent-numbers' }, rows) : h('p', { class: 'muted' }, 'The tenant has no numbers.'));
}

function knowledgePanel(agent, entries) {
  const editable = can('knowledge:write');
  const own = entries.filter((k) => k.agent_id === agent.id || !k.agent_id);
  const byCategory = new Map();
  for (const k of own) byCategory.set(k.category, [...(byCategory.get(k.category) || []), k]);
  const remove = (k) => (editable ? h('button', {
    type: 'button', class: 'secondary', 'aria-label': `Delete: ${k.question}`,
    onclick: () => act(() => api(`/v1/knowledge/${k.id}`, { method: 'DELETE' }), 'Entry deleted').then(route),
  }, 'Delete') : null);
  return h('section', { class: 'panel', 'aria-label': 'Knowledge' }, h('h2', {}, 'Knowledge by category'),
    byCategory.size ? [...byCategory.entries()].sort().map(([category, list]) => h('details', {},
      h('summary', {}, `${category.replaceAll('_', ' ')} (${list.length})`),
      h('dl', {}, list.slice(0, 50).flatMap((k) => [h('dt', {}, k.question), h('dd', {}, k.answer, ' ', remove(k))]))))
      : h('p', { class: 'muted' }, 'No knowledge yet.'),
    editable ? knowledgeForm() : null);
}

/** A new knowledge entry: a question callers ask and the answer, in one of the 18 categories. */
function knowledgeForm() {
  const category = h('select', { name: 'category' },
    CATEGORIES.map((c) => h('option', { value: c }, c.replaceAll('_', ' '))));
  const question = h('input', { name: 'question', required: true });
  const answer = h('textarea', { name: 'answer', required: true });
  const form = h('form', { class: 'stack', 'aria-label': 'New knowledge entry' },
    h('h3', {}, 'Add an entry'),
    field('Category', category), field('Question', question), field('Answer', answer),
    h('button', { type: 'submit' }, 'Add entry'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await act(() => api('/v1/knowledge', {
      method: 'POST', body: { category: category.value, question: question.value, answer: answer.value },
    }), 'Entry added');
    route();
  });
  return form;
}

async function detail(main, id, signal) {
  const [agent, numbers, knowledge] = await Promise.all([
    api(`/v1/agents/${id}`),
    can('numbers:read') ? api('/v1/phone-numbers') : Promise.resolve({ data: [] }),
    can('knowledge:read') ? api('/v1/knowledge?limit=100') : Promise.resolve({ data: [] }),
  ]);
  fill(main,
    h('p', {}, h('a', { href: '#/agents' }, '← Agents')),
    h('h1', {}, agent.name),
    can('calls:write') && !agent.archived_at ? talkPanel(agent, signal) : null,
    can('agents:write') ? editForm(agent) : settings(agent), numbersPanel(agent, numbers), knowledgePanel(agent, knowledge.data));
}

export async function render(main, { args, signal }) {
  if (args[0]) return detail(main, args[0], signal);
  return list(main);
}

async function list(main) {
  const [agents, numbers] = await Promise.all([
    api('/v1/agents'),
    can('numbers:read') ? api('/v1/phone-numbers') : Promise.resolve({ data: [] }),
  ]);
  const numbersOf = (agent) => numbers.data.filter((n) => n.agent_id === agent.id).map((n) => n.phone_number).join(', ') || '—';
  fill(main, 
    h('h1', {}, 'Agents'),
    table('Agents', [
      ['Name', (a) => h('a', { href: `#/agents/${a.id}` }, a.name)],
      ['Engine', (a) => a.engine],
      ['Greeting', (a) => a.greeting, true],
      ['Numbers', numbersOf],
      ['Created', (a) => when(a.created_at), true],
    ], agents.data, 'No agents yet.'),
    can('agents:write') ? agentForm(route) : null);
}
