// Small DOM helpers. Text always goes in as text nodes, never as HTML.

/** h('a', {href: '#/calls'}, 'Calls') */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces `el`'s children, skipping empty ones (null, undefined, false). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

/** A phone number with all but its last four digits hidden: +1•••••0100. */
export function mask(number) {
  if (!number) return '—';
  if (!/^\+\d{6,}$/.test(number)) return number;
  const country = number.startsWith('+1') ? '+1' : number.slice(0, 3);
  return country + '•'.repeat(Math.max(number.length - country.length - 4, 1)) + number.slice(-4);
}

export function when(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A time to the second. */
export function exact(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function seconds(total) {
  if (total === null || total === undefined) return '—';
  const s = Math.round(total);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

export function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

const GOOD = ['completed', 'transferred', 'handled', 'succeeded', 'active'];
const BAD = ['failed', 'busy', 'no_answer', 'no-answer', 'canceled', 'stream_lost', 'declined'];
export function statusBadge(text) {
  if (!text) return badge('—');
  return badge(text, GOOD.includes(text) ? 'ok' : BAD.includes(text) ? 'bad' : 'warn');
}

/** A table: columns are [header, cell(row), optional?]. */
export function table(caption, columns, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'skip' }, caption),
      h('thead', {}, h('tr', {}, columns.map(([title, , optional]) =>
        h('th', { scope: 'col', class: optional ? 'optional' : null }, title)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell, optional]) =>
        h('td', { class: optional ? 'optional' : null }, cell(row))))))));
}

/** A labelled form field. */
export function field(label, input) {
  return h('label', {}, label, input);
}

export function toast(text) {
  const box = document.getElementById('toast');
  const p = h('p', {}, text);
  box.append(p);
  setTimeout(() => p.remove(), 5000);
}
