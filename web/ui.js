// Small DOM helpers. Text always goes in as text nodes (never innerHTML), so
// what users typed is shown as typed.
import { t } from '/assets/i18n.js';

// h('a', {href: '/', class: 'x', onclick: fn, 'aria-label': '…'}, 'text', child, [children])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const key of Object.keys(props)) {
      const v = props[key];
      if (v === undefined || v === null || v === false) continue;
      if (key.startsWith('on') && typeof v === 'function') el.addEventListener(key.slice(2), v);
      else if (key === 'class') el.className = v;
      else if (key === 'text') el.textContent = v;
      else if (key in el && typeof v !== 'string') el[key] = v;
      else el.setAttribute(key, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

let uniqueId = 0;
export function uid(prefix) { return (prefix || 'id') + '-' + ++uniqueId; }

// Says `message` to screen readers (polite), and to everyone when `visible`.
export function announce(message) {
  const region = document.getElementById('status');
  region.textContent = '';
  setTimeout(() => { region.textContent = message; }, 50);
}

// Says `message` at once (errors).
export function alertNow(message) {
  const region = document.getElementById('alert');
  region.textContent = '';
  setTimeout(() => { region.textContent = message; }, 50);
}

// Replaces the page: sets the title, puts `nodes` in <main>, moves focus to
// the first heading so a screen reader announces the new page.
export function showPage(title, nodes, options) {
  document.title = title + ' — Relais';
  const main = document.getElementById('main');
  main.textContent = '';
  append(main, [nodes]);
  const heading = main.querySelector('h1');
  if (heading && !(options && options.keepFocus)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  window.scrollTo(0, 0);
}

// Shows "Loading…" while `fetch()` runs; its result, or null after showing
// the error page (offline, not found…).
export async function loadPage(fetch) {
  loadingPage();
  try {
    return await fetch();
  } catch (err) {
    errorPage(err);
    return null;
  } finally {
    doneLoading();
  }
}

export function loadingPage() {
  const main = document.getElementById('main');
  main.setAttribute('aria-busy', 'true');
  main.textContent = '';
  main.appendChild(h('p', { class: 'loading', text: t('common.loading') }));
}

export function doneLoading() {
  document.getElementById('main').removeAttribute('aria-busy');
}

// A page for an error answer (offline, not found…).
export function errorPage(err) {
  let message = t('error.generic');
  if (err && err.offline) message = t('error.offline');
  else if (err && err.status === 404) message = t('error.not_found');
  else if (err && err.status === 403) message = t('error.forbidden');
  showPage(t('error.title'), [
    h('h1', { text: t('error.title') }),
    h('p', { class: 'error-box', text: message }),
    h('p', null, h('a', { href: '/', text: t('common.back_home') })),
  ]);
}

// The user-facing message for an ApiError.
export function errorMessage(err) {
  if (!err) return t('error.generic');
  if (err.offline) return t('error.offline');
  const key = 'error.' + err.code;
  const s = t(key);
  return s === key ? t('error.generic') : s;
}

// A status badge: a word and a symbol, never colour alone.
export function badge(kind, text) {
  return h('span', { class: 'badge badge-' + kind, text: text });
}
