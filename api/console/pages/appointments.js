import { api, can } from '../app.js';
import { h, fill, when, table, statusBadge } from '../ui.js';

export async function render(main) {
  const [appointments, customers] = await Promise.all([
    api('/v1/appointments?limit=100'),
    can('crm:read') ? api('/v1/customers?limit=100') : Promise.resolve({ data: [] }),
  ]);
  const names = new Map(customers.data.map((c) => [c.id, c.name || c.first_name || c.id.slice(0, 8)]));
  fill(main,
    h('h1', {}, 'Appointments'),
    table('Appointments', [
      ['When', (a) => when(a.starts_at)],
      ['Customer', (a) => names.get(a.customer_id) || a.customer_id.slice(0, 8)],
      ['Time zone', (a) => a.time_zone, true],
      ['Status', (a) => statusBadge(a.status)],
      ['Booked on a call', (a) => (a.call_sid ? 'yes' : 'no'), true],
    ], appointments.data, 'No appointments yet.'));
}
