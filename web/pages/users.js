// Accounts. Administrators: find accounts (search, role, class), create one,
// import a roster CSV (every wrong line listed with its number; nothing is
// imported then), reset a password, end or reopen an account. Teachers get
// the search and the password reset for the pupils of their classes: the
// quick way out when a pupil forgot a password.
// Route: /app/users.
import { t, tn } from '/assets/i18n.js';
import { get, post, patch, sendRaw } from '/assets/api.js';
import { h, showPage, loadPage, announce, alertNow, errorMessage, badge } from '/assets/ui.js';
import { session } from '/assets/router.js';
import { field, input, formErrors, generatePassword, tableBox } from '/assets/forms.js';
import { resetPasswordControl, displayName } from '/assets/accounts.js';

const ROLES = ['student', 'teacher', 'admin'];

function roleName(role) { return t('role.' + role); }

// The box words roster errors in English (content/accounts.cc); the known
// ones are said in the user's language, {a} taking the detail.
const ROSTER_MESSAGES = [
  [/^the file is not UTF-8 text$/, 'import.e_utf8'],
  [/^unterminated quote$/, 'import.e_quote'],
  [/^expected 4 fields .*found (\d+)$/, 'import.e_fields'],
  [/^a login has 1 to/, 'import.e_login_length'],
  [/^a login may only contain/, 'users.login_invalid'],
  [/^the role must be student or teacher, not '(.*)'$/, 'import.e_role'],
  [/^the display name must have/, 'import.e_name'],
  [/^the class name must have/, 'import.e_class'],
  [/^same login and class as line (\d+)$/, 'import.e_duplicate'],
  [/^the file has no roster lines$/, 'import.e_empty'],
];

function rosterMessage(message) {
  for (const [re, key] of ROSTER_MESSAGES) {
    const m = re.exec(message || '');
    if (m) return t(key, { a: m[1] });
  }
  return message;
}

function option(value, text, selected) { return h('option', { value: value, text: text, selected: !!selected }); }

function classSelect(classes, name, emptyText) {
  return h('select', { name: name }, option('', emptyText), classes.map((c) => option(c.id, c.name)));
}

function accountsTable(users, admin, redraw) {
  if (!users.length) return h('p', { text: t('users.none_found') });
  function endButton(u) {
    if (!admin || u.id === session.user.id) return null;
    const b = h('button', { type: 'button', class: u.disabled ? 'secondary small' : 'danger small',
      text: u.disabled ? t('users.reopen') : t('users.end'),
      'aria-label': t(u.disabled ? 'users.reopen_named' : 'users.end_named', { name: displayName(u) }) });
    b.addEventListener('click', async () => {
      if (!u.disabled && !window.confirm(t('users.end_confirm', { name: displayName(u) }))) return;
      try {
        await patch('/api/v1/users/' + encodeURIComponent(u.id), { disabled: !u.disabled });
        announce(t(u.disabled ? 'users.reopened' : 'users.ended', { name: displayName(u) }));
        redraw('users-results');
      } catch (err) { alertNow(errorMessage(err)); }
    });
    return b;
  }
  return tableBox(tn('users.caption', users.length),
    [t('users.col_who'), t('users.col_account'), t('class.col_password')],
    users.map((u) => h('tr', null,
      // Name, then login, role and classes under it: three columns fit a phone.
      h('th', { scope: 'row' }, displayName(u),
        h('span', { class: 'meta block login-cell', text: u.login }),
        h('span', { class: 'meta block', text: roleName(u.role) + ' · ' + ((u.classes || []).map((c) => c.name).join(', ') || t('users.no_class_short')) })),
      h('td', null, u.disabled ? badge('ended', t('users.state_ended')) : badge('done', t('users.state_active')), ' ', endButton(u)),
      h('td', null, u.disabled || (!admin && u.role !== 'student') ? '—' : resetPasswordControl(u)))));
}

function createForm(classes, redraw) {
  const name = input({ name: 'display_name', autocomplete: 'off' });
  const login = input({ name: 'login', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const role = h('select', { name: 'role' }, ROLES.map((r) => option(r, roleName(r))));
  const cls = classSelect(classes, 'class_id', t('users.no_class'));
  const password = input({ name: 'password', autocomplete: 'off', spellcheck: 'false', value: generatePassword() });
  const errors = formErrors();
  const done = h('div', { class: 'ok-box', tabindex: '-1', hidden: true });
  name.addEventListener('change', () => {
    if (login.value) return;
    // "Léa Dubois" → "lea.dubois"
    login.value = name.value.trim().toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, '.').replace(/^\.+|\.+$/g, '').slice(0, 64);
  });
  async function onSubmit(e) {
    e.preventDefault();
    done.hidden = true;
    const problems = [];
    if (!name.value.trim()) problems.push({ input: name, message: t('users.name_missing') });
    if (!/^[a-z0-9._-]{1,64}$/.test(login.value.trim().toLowerCase())) problems.push({ input: login, message: t('users.login_invalid') });
    if (password.value.length < 6) problems.push({ input: password, message: t('users.password_short') });
    if (problems.length) return errors.show(problems);
    errors.clear();
    const body = { display_name: name.value.trim(), login: login.value.trim().toLowerCase(), role: role.value, password: password.value };
    if (cls.value) body.class_id = cls.value;
    try {
      const u = await post('/api/v1/users', body);
      done.textContent = '';
      done.appendChild(h('p', { text: t('users.created', { name: displayName(u), login: u.login }) }));
      done.appendChild(h('p', null, t('pw.new_is') + ' ', h('strong', { class: 'password', text: body.password })));
      done.hidden = false;
      announce(t('users.created', { name: displayName(u), login: u.login }));
      [name, login].forEach((el) => { el.value = ''; });
      password.value = generatePassword();
      done.focus();
      redraw(null);
    } catch (err) {
      errors.show(err.status === 409 ? [{ input: login, message: t('users.login_taken') }] : err);
    }
  }
  return h('section', { class: 'card', 'aria-labelledby': 'users-new' },
    h('h2', { id: 'users-new', text: t('users.new') }),
    h('form', { onsubmit: onSubmit, novalidate: true }, errors.node,
      field(t('users.display_name'), name),
      field(t('login.login'), login, t('users.login_hint')),
      field(t('users.role'), role),
      field(t('users.class'), cls),
      field(t('login.password'), password, t('users.password_generated')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: t('users.create') })),
      done));
}

function importForm(redraw) {
  const file = h('input', { type: 'file', name: 'roster', accept: '.csv,text/csv,text/plain' });
  const errors = formErrors();
  const result = h('div', { tabindex: '-1', hidden: true, id: 'import-result' });
  async function onSubmit(e) {
    e.preventDefault();
    result.hidden = true;
    const f = file.files && file.files[0];
    if (!f) return errors.show([{ input: file, message: t('import.file_missing') }]);
    errors.clear();
    try {
      const answer = await sendRaw('POST', '/api/v1/roster', f, 'text/csv');
      result.textContent = '';
      result.className = 'ok-box';
      result.appendChild(h('p', { text: t('import.done_short') + ' ' + [tn('import.created', answer.created), tn('import.updated', answer.updated),
        tn('import.unchanged', answer.unchanged), tn('import.classes', answer.classes_created)].join(', ') + '.' }));
      if (answer.accounts && answer.accounts.length) {
        result.appendChild(tableBox(t('import.accounts_caption'),
          [t('import.col_account'), t('login.password')],
          answer.accounts.map((a) => h('tr', null,
            h('th', { scope: 'row' }, a.display_name,
              h('span', { class: 'meta block login-cell', text: a.login }),
              h('span', { class: 'meta block', text: a.class || '' })),
            h('td', { class: 'password', text: a.password })))));
      }
      result.hidden = false;
      announce(t('import.done_short'));
      result.focus();
      file.value = '';
      redraw(null);
    } catch (err) {
      const lines = err.details && err.details.lines;
      if (lines && lines.length) {
        errors.show(lines.map((l) => ({
          input: file,
          message: (l.line ? t('import.line', { n: l.line }) : t('import.whole_file')) + ' ' + rosterMessage(l.message),
        })));
        // One field for every line: its message under it lists them all.
        const msg = document.getElementById(file.id + '-error');
        if (msg) msg.textContent = tn('import.lines_wrong', lines.length);
      } else {
        errors.show(err);
      }
    }
  }
  return h('section', { class: 'card', 'aria-labelledby': 'users-import' },
    h('h2', { id: 'users-import', text: t('import.title') }),
    h('p', { class: 'hint', text: t('import.format') }),
    h('pre', { class: 'sample', text: 'login;nom;rôle;classe\nlea.martin;Léa Martin;élève;6e A\nhugo.petit;Hugo Petit;élève;6e A' }),
    h('form', { onsubmit: onSubmit, novalidate: true }, errors.node,
      field(t('import.file'), file, t('import.file_hint')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: t('import.submit') }))),
    result);
}

export async function render(ctx) {
  const admin = session.user.role === 'admin';
  const q = ctx.query.get('q') || '';
  const role = ctx.query.get('role') || '';
  const classId = ctx.query.get('class_id') || '';
  const data = await loadPage(async () => {
    const params = new URLSearchParams();
    if (q) params.set('q', q);
    if (role) params.set('role', role);
    if (classId) params.set('class_id', classId);
    if (!admin) params.set('role', 'student');
    const users = (await get('/api/v1/users?' + params.toString())).users;
    const classes = (await get('/api/v1/classes')).classes;
    return { users: users, classes: classes };
  });
  if (!data) return;
  const redraw = (focusId) => {
    const results = document.getElementById('users-results-box');
    get('/api/v1/users?' + new URLSearchParams(location.search).toString() + (admin ? '' : '&role=student')).then((answer) => {
      results.textContent = '';
      results.appendChild(accountsTable(answer.users, admin, redraw));
      const el = focusId && document.getElementById(focusId);
      if (el) el.focus();
    }).catch((err) => alertNow(errorMessage(err)));
  };

  // The search is a GET form: its criteria end up in the URL (back button, reload).
  const search = input({ type: 'search', name: 'q', value: q, autocomplete: 'off' });
  const roleSelect = h('select', { name: 'role' }, option('', t('users.any_role')), ROLES.map((r) => option(r, roleName(r), r === role)));
  const classFilter = classSelect(data.classes, 'class_id', t('users.any_class'));
  classFilter.value = classId;
  const heading = admin ? t('users.title') : t('users.title_teacher');
  function onSearch(e) {
    e.preventDefault();
    const params = new URLSearchParams();
    if (search.value.trim()) params.set('q', search.value.trim());
    if (admin && roleSelect.value) params.set('role', roleSelect.value);
    if (classFilter.value) params.set('class_id', classFilter.value);
    const qs = params.toString();
    history.pushState({}, '', '/app/users' + (qs ? '?' + qs : ''));
    render({ params: ctx.params, query: params, user: ctx.user }).then(() => {
      const el = document.getElementById('users-results');
      if (el) el.focus();
    });
  }
  showPage(heading, [
    h('h1', { text: heading }),
    admin ? null : h('p', { class: 'hint', text: t('users.teacher_intro') }),
    h('form', { onsubmit: onSearch, class: 'card filters', role: 'search', 'aria-label': t('users.search_label') },
      h('div', { class: 'row' },
        field(t('users.search'), search, t('users.search_hint')),
        admin ? field(t('users.role'), roleSelect) : null,
        field(t('users.class'), classFilter)),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: t('users.search_submit') }))),
    h('section', { 'aria-labelledby': 'users-results' },
      h('h2', { id: 'users-results', tabindex: '-1', text: t('users.results') }),
      h('div', { id: 'users-results-box' }, accountsTable(data.users, admin, redraw))),
    admin ? createForm(data.classes, redraw) : null,
    admin ? importForm(redraw) : null,
  ]);
}
