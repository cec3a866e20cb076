import { api, can, act, route } from '../app.js';
import { h, fill, mask, table, field, statusBadge } from '../ui.js';

/** `{weekly: {mon: [["09:00", "17:00"]], …}}` as `mon 09:00–17:00, …`. */
function hours(schedule) {
  if (!schedule?.weekly) return '—';
  return Object.entries(schedule.weekly)
    .map(([day, spans]) => `${day} ${spans.map(([a, b]) => `${a}–${b}`).join(' ')}`)
    .join(', ') || '—';
}

function departmentForm() {
  const name = h('input', { name: 'name', required: true });
  const description = h('input', { name: 'description' });
  const form = h('form', { class: 'row panel', 'aria-label': 'New department' },
    field('Department', name), field('Description', description), h('button', { type: 'submit' }, 'Add department'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await act(() => api('/v1/departments', { method: 'POST', body: { name: name.value, description: description.value || null } }), `${name.value} added`);
    route();
  });
  return form;
}

export async function render(main) {
  const [departments, employees] = await Promise.all([api('/v1/departments'), api('/v1/employees')]);
  const deptName = (id) => departments.data.find((d) => d.id === id)?.name || '—';
  fill(main, 
    h('h1', {}, 'Directory'),
    h('h2', {}, 'Departments'),
    table('Departments', [
      ['Name', (d) => d.name],
      ['Description', (d) => d.description || '—', true],
      ['Hours', (d) => hours(d.hours)],
    ], departments.data, 'No departments yet.'),
    can('directory:write') ? departmentForm() : null,
    h('h2', {}, 'People'),
    table('People', [
      ['Name', (e) => e.name],
      ['Department', (e) => deptName(e.department_id)],
      ['Phone', (e) => mask(e.phone), true],
      ['Roles', (e) => e.roles.join(', ') || '—', true],
      ['Status', (e) => statusBadge(e.status)],
    ], employees.data, 'No people yet.'));
}
