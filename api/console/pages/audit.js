import { api } from '../app.js';
import { h, fill, when, table } from '../ui.js';

export async function render(main) {
  const page = await api('/v1/audit-log?limit=100');
  fill(main, 
    h('h1', {}, 'Audit log'),
    table('Audit log', [
      ['When', (e) => when(e.created_at)],
      ['Who', (e) => `${e.actor_type}${e.actor_id ? ` ${e.actor_id.slice(0, 8)}` : ''}`],
      ['Action', (e) => e.action],
      ['What', (e) => `${e.resource_type}${e.resource_id ? ` ${e.resource_id}` : ''}`],
    ], page.data, 'Nothing recorded yet.'));
}
