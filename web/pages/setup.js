// First run: the box has no administrator yet. Whoever holds the one-time
// setup code (printed by `relais serve`, kept in DATA/setup-code.txt) names
// the school and creates the administrator account, then is logged in.
// app.js sends every visitor here while GET /api/v1/setup says it is needed.
import { t } from '/assets/i18n.js';
import { get, post } from '/assets/api.js';
import { h, showPage, loadPage, announce } from '/assets/ui.js';
import { session, navigate } from '/assets/router.js';
import { field, input, formErrors } from '/assets/forms.js';

export async function render() {
  const state = await loadPage(() => get('/api/v1/setup'));
  if (!state) return;
  session.setupNeeded = !!state.needed;
  if (!state.needed) {
    showPage(t('setup.title'), [
      h('h1', { text: t('setup.title') }),
      h('p', { class: 'ok-box', text: t('setup.done_already') }),
      h('p', null, h('a', { href: '/app/login', text: t('setup.to_login') })),
    ]);
    return;
  }
  const code = input({ name: 'code', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const school = input({ name: 'school_name', autocomplete: 'organization' });
  const name = input({ name: 'display_name', autocomplete: 'name' });
  const login = input({ name: 'login', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const password = input({ type: 'password', name: 'password', autocomplete: 'new-password' });
  const again = input({ type: 'password', name: 'password2', autocomplete: 'new-password' });
  const errors = formErrors();
  const submit = h('button', { type: 'submit', class: 'primary', text: t('setup.submit') });

  async function onSubmit(e) {
    e.preventDefault();
    const problems = [];
    if (!code.value.trim()) problems.push({ input: code, message: t('setup.code_missing') });
    if (!school.value.trim()) problems.push({ input: school, message: t('setup.school_missing') });
    if (!/^[a-z0-9._-]{1,64}$/.test(login.value.trim().toLowerCase())) problems.push({ input: login, message: t('users.login_invalid') });
    if (password.value.length < 6) problems.push({ input: password, message: t('users.password_short') });
    else if (password.value !== again.value) problems.push({ input: again, message: t('setup.password_mismatch') });
    if (problems.length) return errors.show(problems);
    submit.disabled = true;
    try {
      const answer = await post('/api/v1/setup', {
        code: code.value.trim(), school_name: school.value.trim(), login: login.value.trim().toLowerCase(),
        password: password.value, display_name: name.value.trim() || login.value.trim(),
      });
      session.setupNeeded = false;
      session.user = answer.user;
      try { localStorage.setItem('relais.user', JSON.stringify(answer.user)); } catch (e2) { /* not kept */ }
      announce(t('setup.finished'));
      navigate('/', { replace: true });
    } catch (err) {
      if (err.status === 403) errors.show([{ input: code, message: t('setup.code_wrong') }]);
      else if (err.status === 409) { session.setupNeeded = false; errors.show(t('setup.done_already')); }
      else if (err.status === 429) errors.show(t('login.throttled'));
      else errors.show(err);
    } finally {
      submit.disabled = false;
    }
  }

  showPage(t('setup.title'), h('div', { class: 'login card setup' },
    h('h1', { text: t('setup.title') }),
    h('p', { text: t('setup.intro') }),
    h('form', { onsubmit: onSubmit, novalidate: true },
      errors.node,
      field(t('setup.code'), code, t('setup.code_hint')),
      field(t('setup.school'), school, t('setup.school_hint')),
      h('fieldset', null, h('legend', { text: t('setup.admin') }),
        field(t('users.display_name'), name, t('setup.name_hint')),
        field(t('login.login'), login, t('users.login_hint')),
        field(t('login.password'), password, t('users.password_hint')),
        field(t('setup.password_again'), again)),
      h('div', { class: 'actions' }, submit))));
}
