// The Switchboard console: a small single-page app on the public REST API, with the same
// sign-in (JWT) and permissions as any client. No build step, no third-party code.
import { h, fill, toast } from './ui.js';

const TOKEN = 'switchboard.session';

/** A problem the API answered (RFC 7807), or a network failure. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.field = body?.field;
    this.permission = body?.permission;
  }
}

export const session = {
  get() { try { return JSON.parse(sessionStorage.getItem(TOKEN)); } catch { return null; } },
  set(value) { sessionStorage.setItem(TOKEN, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(TOKEN); },
};

let me = null;

export function can(permission) {
  return !!me && me.permissions.includes(permission);
}

export function currentUser() { return me; }

function headers(extra = {}) {
  const s = session.get();
  return { ...(s ? { Authorization: `Bearer ${s.access_token}` } : {}), ...extra };
}

async function refresh() {
  const s = session.get();
  if (!s?.refresh_token) return false;
  const res = await fetch('/v1/auth/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: s.refresh_token }),
  });
  if (!res.ok) return false;
  session.set(await res.json());
  return true;
}

/** Calls the API; resolves to the JSON body, rejects with an ApiProblem. */
export async function api(path, { method = 'GET', body, raw = false, retried = false } = {}) {
  const init = { method, headers: headers() };
  if (body !== undefined) {
    if (body instanceof FormData || typeof body === 'string') {
      init.body = body;
      if (typeof body === 'string') init.headers['Content-Type'] = 'text/csv';
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !retried && path !== '/v1/auth/login' && await refresh()) {
    return api(path, { method, body, raw, retried: true });
  }
  if (res.status === 401 && path !== '/v1/auth/login') {
    signOut();
    throw new ApiProblem(401, { detail: 'Please sign in again.' });
  }
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    throw new ApiProblem(res.status, problem);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

/**
 * Follows a Server-Sent Events endpoint with the session's token (EventSource cannot send
 * one), reconnecting until `signal` aborts. `onEvent(name, data, id)`.
 */
export async function follow(path, onEvent, signal) {
  while (!signal.aborted) {
    try {
      const res = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal });
      if (res.status === 401 && await refresh()) continue;
      if (!res.ok) throw new ApiProblem(res.status, null);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = 'message'; let data = ''; let id = null;
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) name = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
            else if (line.startsWith('id:')) id = line.slice(3).trim();
          }
          if (data) onEvent(name, JSON.parse(data), id);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      console.warn('live stream interrupted', e);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---------------------------------------------------------------------------------------------
// Pages

const PAGES = [
  { path: 'overview', title: 'Overview', perm: 'calls:read', load: () => import('./pages/overview.js') },
  { path: 'live', title: 'Live calls', perm: 'calls:read', load: () => import('./pages/live.js') },
  { path: 'calls', title: 'Calls', perm: 'calls:read', load: () => import('./pages/calls.js') },
  { path: 'messages', title: 'Messages', perm: 'messages:read', load: () => import('./pages/messages.js') },
  { path: 'appointments', title: 'Appointments', perm: 'crm:read', load: () => import('./pages/appointments.js') },
  { path: 'campaigns', title: 'Campaigns', perm: 'campaigns:read', load: () => import('./pages/campaigns.js') },
  { path: 'agents', title: 'Agents', perm: 'agents:read', load: () => import('./pages/agents.js') },
  { path: 'builds', title: 'Agent builder', perm: 'agents:write', load: () => import('./pages/builds.js') },
  { path: 'directory', title: 'Directory', perm: 'directory:read', load: () => import('./pages/directory.js') },
  { path: 'people', title: 'Users & API keys', perm: 'users:read', load: () => import('./pages/people.js') },
  { path: 'audit', title: 'Audit log', perm: 'audit:read', load: () => import('./pages/audit.js') },
];

let current = null;

function signOut() {
  const s = session.get();
  if (s?.refresh_token) {
    fetch('/v1/auth/logout', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: s.refresh_token }),
    }).catch(() => {});
  }
  session.clear();
  me = null;
  location.hash = '#/signin';
  route();
}

function renderNav(active) {
  const nav = document.getElementById('nav');
  const visible = PAGES.filter((p) => can(p.perm));
  fill(nav, ...visible.map((p) => h('a', {
    href: `#/${p.path}`, 'aria-current': p.path === active ? 'page' : null,
  }, p.title)));
  nav.hidden = false;
  const who = document.getElementById('who');
  const name = me.user ? `${me.user.name} (${me.role})` : me.role;
  fill(who, name, ' · ', me.tenant.name,
    h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'));
  const menu = document.getElementById('menu');
  menu.hidden = false;
  // On a phone-sized screen the pages are behind the Menu button; choosing one closes it.
  nav.classList.remove('open');
  menu.setAttribute('aria-expanded', 'false');
  menu.onclick = () => {
    const open = nav.classList.toggle('open');
    menu.setAttribute('aria-expanded', String(open));
  };
}

async function signInPage(main) {
  document.getElementById('nav').hidden = true;
  fill(document.getElementById('who'));
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const tenant = h('input', { type: 'text', name: 'tenant', autocomplete: 'organization' });
  const form = h('form', { class: 'stack', 'aria-describedby': 'signin-error' },
    h('label', {}, 'Email', email),
    h('label', {}, 'Password', password),
    h('label', {}, 'Organisation (only if your email belongs to several)', tenant),
    h('button', { type: 'submit' }, 'Sign in'), error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const body = { email: email.value, password: password.value };
      if (tenant.value.trim()) body.tenant = tenant.value.trim();
      session.set(await api('/v1/auth/login', { method: 'POST', body }));
      location.hash = '#/overview';
      await route();
    } catch (e) {
      error.textContent = e.status === 401 ? 'That email and password do not match.' : e.message;
    }
  });
  fill(main, h('div', { class: 'signin panel' }, h('h1', {}, 'Sign in to Switchboard'), form));
  email.focus();
}

export async function route() {
  const main = document.getElementById('main');
  current?.abort();
  current = new AbortController();
  const { signal } = current;
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  if (!session.get()) return signInPage(main);
  if (!me) {
    try { me = await api('/v1/auth/me'); } catch { return signInPage(main); }
  }
  if (signal.aborted) return;
  const page = PAGES.find((p) => p.path === name && can(p.perm)) || PAGES.find((p) => can(p.perm));
  if (!page) {
    fill(main, h('p', {}, 'Your role has no pages here.'));
    return;
  }
  renderNav(page.path);
  document.title = `${page.title} · Switchboard`;
  fill(main, h('p', { class: 'muted' }, 'Loading…'));
  // The page renders into its own view, shown only if the user has not moved on meanwhile.
  const view = h('div', { class: 'view' });
  try {
    const module = await page.load();
    await module.render(view, { args: rest.map(decodeURIComponent), signal });
  } catch (e) {
    fill(view, h('h1', {}, page.title), h('p', { class: 'error', role: 'alert' }, e.message));
  }
  if (signal.aborted) return;
  fill(main, view);
  main.focus({ preventScroll: true });
}

/** Runs `action`, showing its problem (or `done`) as a toast. */
export async function act(action, done) {
  try {
    const result = await action();
    if (done) toast(done);
    return result;
  } catch (e) {
    toast(e.field ? `${e.field}: ${e.message}` : e.message);
    throw e;
  }
}

window.addEventListener('hashchange', route);
route();
