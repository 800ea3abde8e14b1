// Navigation without reloading: the app's pages live at "/" and "/app/…"
// (the server answers all of them with the shell). Links inside the app are
// ordinary <a href> elements; a click on one is handled here.
//
// Pages are registered in routes.js: {path: '/app/homework/:id',
// render(ctx), roles?: ['student'], public?: true}. ctx = {params, query, user}.

// user: {id, login, display_name, role} once logged in; setupNeeded: the box
// has no administrator yet (pages/setup.js).
export const session = { user: null, setupNeeded: false };
let renderCurrent = () => {};

export function setRenderer(fn) { renderCurrent = fn; }

export function navigate(path, options) {
  if (options && options.replace) history.replaceState({}, '', path);
  else history.pushState({}, '', path);
  renderCurrent();
}

// Matches "/app/homework/:id" against a path; the params or null.
export function match(pattern, path) {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].charAt(0) === ':') params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

function isAppPath(pathname) { return pathname === '/' || pathname.indexOf('/app/') === 0; }

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest ? e.target.closest('a') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || href.charAt(0) === '#') return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !isAppPath(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener('popstate', () => renderCurrent());
