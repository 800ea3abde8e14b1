// The login page: login and password; errors are shown next to the form and
// announced (role=alert).
import { t } from '/assets/i18n.js';
import { post, ApiError } from '/assets/api.js';
import { h, showPage, alertNow } from '/assets/ui.js';
import { session, navigate } from '/assets/router.js';
import { forgetOfflineData } from '/assets/offline.js';

export function render(ctx) {
  const error = h('div', { id: 'login-error', class: 'error-box', hidden: true });
  const login = h('input', {
    id: 'login', name: 'login', type: 'text', autocomplete: 'username', autocapitalize: 'none',
    spellcheck: 'false', required: true,
  });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', text: t('login.submit') });

  async function onSubmit(e) {
    e.preventDefault();
    error.hidden = true;
    [login, password].forEach((el) => el.removeAttribute('aria-invalid'));
    if (!login.value.trim() || !password.value) {
      return fail(t('login.missing'), !login.value.trim() ? login : password);
    }
    submit.disabled = true;
    submit.textContent = t('login.working');
    try {
      const answer = await post('/api/v1/session', { login: login.value.trim(), password: password.value });
      session.user = answer.user;
      // Someone else used this tablet before: nothing of theirs stays in the offline caches.
      let before = null;
      try { before = JSON.parse(localStorage.getItem('relais.user')); } catch (e2) { before = null; }
      if (before && before.id !== answer.user.id) await forgetOfflineData();
      try { localStorage.setItem('relais.user', JSON.stringify(answer.user)); } catch (e2) { /* not kept */ }
      const next = ctx.query.get('next');
      navigate(next && next.indexOf('/') === 0 && next.indexOf('//') !== 0 ? next : '/', { replace: true });
    } catch (err) {
      let message = t('error.generic');
      if (err instanceof ApiError) {
        if (err.offline) message = t('error.offline');
        else if (err.status === 401) message = t('login.wrong');
        else if (err.status === 429) message = t('login.throttled');
      }
      password.value = '';
      fail(message, err && err.status === 401 ? login : null);
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  }

  function fail(message, field) {
    error.textContent = message;
    error.hidden = false;
    alertNow(message);
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  // A scanned login card that did not work (GET /c/{token} sends the browser here).
  const card = ctx.query.get('card');
  if (card === 'invalid' || card === 'rate_limited') {
    error.textContent = t(card === 'invalid' ? 'login.card_invalid' : 'login.throttled');
    error.hidden = false;
  }
  login.setAttribute('aria-describedby', 'login-error');
  password.setAttribute('aria-describedby', 'login-error');
  showPage(t('login.title'), h('div', { class: 'login card' },
    h('h1', { text: t('login.title') }),
    h('p', { class: 'hint', text: t('login.intro') }),
    h('form', { onsubmit: onSubmit, novalidate: true },
      error,
      h('div', null, h('label', { for: 'login', text: t('login.login') }), login),
      h('div', null, h('label', { for: 'password', text: t('login.password') }), password),
      h('div', { class: 'actions' }, submit)),
    h('p', { class: 'hint', text: t('login.forgot') })));
}
