import { api, can } from '../app.js';
import { h, fill, when, table, statusBadge } from '../ui.js';

export async function render(main) {
  const [users, keys] = await Promise.all([
    api('/v1/users'),
    can('api_keys:read') ? api('/v1/api-keys') : Promise.resolve(null),
  ]);
  fill(main, 
    h('h1', {}, 'Users & API keys'),
    h('h2', {}, 'Users'),
    table('Users', [
      ['Name', (u) => u.name], ['Email', (u) => u.email], ['Role', (u) => u.role],
      ['Status', (u) => statusBadge(u.status)], ['Last sign-in', (u) => when(u.last_login_at), true],
    ], users.data),
    keys ? h('h2', {}, 'API keys') : null,
    keys ? table('API keys', [
      ['Name', (k) => k.name], ['Prefix', (k) => k.prefix], ['Role', (k) => k.role],
      ['Created', (k) => when(k.created_at), true], ['Revoked', (k) => when(k.revoked_at), true],
    ], keys.data) : null);
}
