// The app's entry point: finds who is logged in, draws the header, sends
// queued hand-ins, and renders the page of the current URL (routes.js).
import { t, language, setLanguage } from '/assets/i18n.js';
import { get, del, setUnauthenticatedHandler } from '/assets/api.js';
import { h, announce, errorPage, newRender } from '/assets/ui.js';
import { session, setRenderer, navigate, match } from '/assets/router.js';
import { routes } from '/assets/routes.js';
import { flushQueue, onQueueEvent } from '/assets/handin.js';
import { registerServiceWorker, forgetOfflineData } from '/assets/offline.js';

const USER_KEY = 'relais.user';
let offline = false;

function findRoute(pathname) {
  const role = session.user ? session.user.role : null;
  for (const r of routes) {
    const params = match(r.path, pathname);
    if (!params) continue;
    if (r.public || (r.roles && r.roles.indexOf(role) >= 0)) return { route: r, params: params };
  }
  return null;
}

function drawHeader() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const logout = document.getElementById('logout');
  const langSwitch = document.getElementById('lang-switch');
  document.getElementById('skip-link').textContent = t('nav.skip');
  nav.setAttribute('aria-label', t('nav.main'));
  const other = language() === 'fr' ? 'en' : 'fr';
  langSwitch.textContent = t('lang.switch_to');
  langSwitch.setAttribute('lang', other);
  logout.textContent = t('nav.logout');
  nav.textContent = '';
  if (!session.user) {
    nav.hidden = true;
    who.textContent = '';
    logout.hidden = true;
    return;
  }
  const here = location.pathname;
  for (const r of routes) {
    if (!r.nav || !r.roles || r.roles.indexOf(session.user.role) < 0) continue;
    const a = h('a', { href: r.path, text: t(r.nav) });
    if (match(r.path, here)) a.setAttribute('aria-current', 'page');
    nav.appendChild(a);
  }
  nav.hidden = false;
  who.textContent = session.user.display_name || session.user.login;
  logout.hidden = false;
}

function drawBanner() {
  const banner = document.getElementById('banner');
  banner.textContent = offline ? t('offline.banner') : '';
  document.body.style.paddingBottom = offline ? banner.offsetHeight + 'px' : '';
}

async function renderCurrent() {
  newRender();
  const asked = new URLSearchParams(location.search);
  if (!session.user && session.setupNeeded) {
    // A new box: everyone goes to the first-run page until an administrator exists.
    if (location.pathname !== '/app/setup') history.replaceState({}, '', '/app/setup');
  } else if (!session.user && location.pathname !== '/app/login' && location.pathname !== '/app/setup') {
    // A scanned login card that did not work comes back as /?card=invalid|rate_limited.
    const card = asked.get('card');
    const next = card ? '?card=' + encodeURIComponent(card)
      : location.pathname === '/' ? '' : '?next=' + encodeURIComponent(location.pathname + location.search);
    history.replaceState({}, '', '/app/login' + next);
  }
  if (session.user && (location.pathname === '/app/login' || location.pathname === '/app/setup')) history.replaceState({}, '', '/');
  if (session.user && asked.get('card')) history.replaceState({}, '', location.pathname);
  const query = new URLSearchParams(location.search);
  drawHeader();
  drawBanner();
  const found = findRoute(location.pathname);
  if (!found) return errorPage({ status: 404 });
  try {
    await found.route.render({ params: found.params, query: query, user: session.user });
  } catch (err) {
    errorPage(err);
  }
}

async function loadSession() {
  try {
    const me = await get('/api/v1/me');
    session.user = me.user;
    const before = localStorage.getItem(USER_KEY);
    if (before && JSON.parse(before).id !== me.user.id) await forgetOfflineData();
    localStorage.setItem(USER_KEY, JSON.stringify(me.user));
  } catch (err) {
    if (err.offline) {
      // The box is out of reach: carry on with what this tablet kept.
      offline = true;
      try { session.user = JSON.parse(localStorage.getItem(USER_KEY)); } catch (e) { session.user = null; }
    } else {
      session.user = null;
    }
  }
  if (!session.user && !offline) {
    try { session.setupNeeded = !!(await get('/api/v1/setup')).needed; } catch (e) { session.setupNeeded = false; }
  }
}

async function logout() {
  try { await del('/api/v1/session'); } catch (e) { /* ended anyway on this tablet */ }
  session.user = null;
  try { localStorage.removeItem(USER_KEY); } catch (e) { /* nothing kept */ }
  await forgetOfflineData();
  announce(t('nav.logged_out'));
  navigate('/app/login', { replace: true });
}

function flush() {
  if (session.user) flushQueue(session.user.id).catch(() => {});
}

async function start() {
  setRenderer(renderCurrent);
  setUnauthenticatedHandler(() => {
    if (!session.user) return;
    session.user = null;
    renderCurrent();
  });
  document.getElementById('logout').addEventListener('click', logout);
  document.getElementById('lang-switch').addEventListener('click', () => {
    setLanguage(language() === 'fr' ? 'en' : 'fr');
    renderCurrent().then(() => announce(t('lang.changed')));
  });
  onQueueEvent((ev) => {
    if (ev.type === 'sent') announce(t('queue.sent', { title: ev.draft.title }));
    else announce(t('queue.failed', { title: ev.draft.title }));
  });
  window.addEventListener('online', () => { offline = false; drawBanner(); flush(); });
  window.addEventListener('offline', () => { offline = true; drawBanner(); });
  setInterval(flush, 20000);
  await loadSession();
  await renderCurrent();
  flush();
  registerServiceWorker();
}

start();
