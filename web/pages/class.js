// One class for its teachers and administrators: its homework (drafts too)
// with a button to publish a new one, its pupils with a quick password reset,
// and links to its courses and its login cards. Administrators also rename
// the class, add and remove members, and delete a class created by mistake.
import { t, tn, formatShortDateTime } from '/assets/i18n.js';
import { get, post, patch, del } from '/assets/api.js';
import { h, showPage, loadPage, announce, badge, errorMessage, alertNow } from '/assets/ui.js';
import { session, navigate } from '/assets/router.js';
import { field, input, formErrors, tableBox } from '/assets/forms.js';
import { resetPasswordControl, displayName } from '/assets/accounts.js';

export async function findClass(id) {
  const list = (await get('/api/v1/classes')).classes;
  for (const c of list) if (c.id === id) return c;
  const err = new Error('not found');
  err.status = 404;
  throw err;
}

function homeworkTable(list) {
  if (!list.length) return h('p', { text: t('class.no_homework') });
  return tableBox(t('class.homework_caption'),
    [t('class.col_title'), t('class.col_subject'), t('class.col_due'), t('class.col_state')],
    list.map((hw) => h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: '/app/homework/' + encodeURIComponent(hw.id), text: hw.title })),
      h('td', { text: hw.subject }),
      h('td', { text: formatShortDateTime(hw.due_at) }),
      h('td', null, hw.published ? badge('done', t('hwt.published')) : badge('draft', t('hwt.draft'))))));
}

function membersTable(cls, members, admin, reload) {
  const students = members.filter((m) => m.role === 'student');
  const teachers = members.filter((m) => m.role !== 'student');
  function removeButton(m) {
    if (!admin) return null;
    const b = h('button', { type: 'button', class: 'secondary small', text: t('class.remove'),
      'aria-label': t('class.remove_named', { name: displayName(m) }) });
    b.addEventListener('click', async () => {
      if (!window.confirm(t('class.remove_confirm', { name: displayName(m), cls: cls.name }))) return;
      try {
        await del('/api/v1/classes/' + encodeURIComponent(cls.id) + '/members/' + encodeURIComponent(m.user_id));
        announce(t('class.removed', { name: displayName(m) }));
        reload('class-members');
      } catch (err) { alertNow(errorMessage(err)); }
    });
    return b;
  }
  return [
    h('p', { class: 'meta', text: teachers.length ? t('class.teachers', { names: teachers.map(displayName).join(', ') }) : t('class.no_teacher') }),
    admin && teachers.length ? h('ul', { class: 'file-list', 'aria-label': t('class.teachers_list') }, teachers.map((m) =>
      h('li', null, h('span', { class: 'name', text: displayName(m) }), m.user_id === session.user.id ? null : removeButton(m)))) : null,
    students.length ? tableBox(t('class.students_caption', { cls: cls.name }),
      [t('class.col_name'), t('class.col_login'), t('class.col_password'), admin ? t('class.col_member') : null],
      students.map((m) => h('tr', null,
        h('th', { scope: 'row', text: displayName(m) }),
        h('td', { class: 'login-cell', text: m.login }),
        h('td', null, resetPasswordControl(m)),
        admin ? h('td', null, removeButton(m)) : null)))
      : h('p', { text: t('class.no_students') }),
  ];
}

function adminSection(cls, reload) {
  const name = input({ name: 'name', value: cls.name, autocomplete: 'off' });
  const renameErrors = formErrors();
  async function rename(e) {
    e.preventDefault();
    if (!name.value.trim()) return renameErrors.show([{ input: name, message: t('classes.name_missing') }]);
    try {
      await patch('/api/v1/classes/' + encodeURIComponent(cls.id), { name: name.value.trim() });
      announce(t('class.renamed', { name: name.value.trim() }));
      reload('class-admin');
    } catch (err) {
      renameErrors.show(err.status === 409 ? [{ input: name, message: t('classes.name_taken') }] : err);
    }
  }
  const login = input({ name: 'login', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const addErrors = formErrors();
  async function addMember(e) {
    e.preventDefault();
    if (!login.value.trim()) return addErrors.show([{ input: login, message: t('class.login_missing') }]);
    try {
      const m = await post('/api/v1/classes/' + encodeURIComponent(cls.id) + '/members', { login: login.value.trim().toLowerCase() });
      announce(t('class.added', { name: displayName(m) }));
      reload('class-members');
    } catch (err) {
      addErrors.show(err.status === 404 ? [{ input: login, message: t('class.login_unknown') }] : err);
    }
  }
  const deleteErrors = formErrors();
  async function remove() {
    if (!window.confirm(t('class.delete_confirm', { name: cls.name }))) return;
    try {
      await del('/api/v1/classes/' + encodeURIComponent(cls.id));
      announce(t('class.deleted', { name: cls.name }));
      navigate('/');
    } catch (err) {
      deleteErrors.show(err.status === 409 ? t('class.delete_conflict') : err);
    }
  }
  return h('section', { class: 'card', 'aria-labelledby': 'class-admin' },
    h('h2', { id: 'class-admin', tabindex: '-1', text: t('class.manage') }),
    h('form', { onsubmit: addMember, novalidate: true, class: 'part' }, addErrors.node,
      field(t('class.add_login'), login, t('class.add_hint')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary', text: t('class.add') }))),
    h('form', { onsubmit: rename, novalidate: true, class: 'part' }, renameErrors.node,
      field(t('class.new_name'), name),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary', text: t('class.rename') }))),
    h('div', { class: 'part' }, deleteErrors.node,
      h('p', { class: 'hint', text: t('class.delete_hint') }),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: remove, text: t('class.delete') }))));
}

export async function render(ctx) {
  const id = ctx.params.id;
  const data = await loadPage(async () => {
    const cls = await findClass(id);
    const homework = (await get('/api/v1/homework?class_id=' + encodeURIComponent(id))).homework;
    const members = (await get('/api/v1/classes/' + encodeURIComponent(id) + '/members')).members;
    return { cls: cls, homework: homework, members: members };
  });
  if (!data) return;
  const cls = data.cls;
  const admin = session.user.role === 'admin';
  const base = '/app/classes/' + encodeURIComponent(id);
  // After an action, redraw and put focus back on the section that changed.
  const reload = (focusId) => render(ctx).then(() => {
    const el = document.getElementById(focusId);
    if (el) el.focus();
  });
  const students = data.members.filter((m) => m.role === 'student').length;
  showPage(cls.name, [
    h('p', { class: 'subject', text: t('class.kicker') }),
    h('h1', { text: cls.name }),
    h('p', { class: 'meta', text: tn('classes.students', students) }),
    h('nav', { class: 'actions page-actions', 'aria-label': t('class.actions') },
      h('a', { class: 'button primary', href: base + '/homework/new', text: t('class.new_homework') }),
      h('a', { class: 'button secondary', href: base + '/courses', text: t('class.courses') }),
      h('a', { class: 'button secondary', href: base + '/cards', text: t('class.cards') })),
    h('section', { 'aria-labelledby': 'class-homework' },
      h('h2', { id: 'class-homework', text: t('class.homework') }),
      homeworkTable(data.homework)),
    h('section', { 'aria-labelledby': 'class-members' },
      h('h2', { id: 'class-members', tabindex: '-1', text: t('class.students') }),
      h('p', { class: 'hint', text: t('class.password_hint') }),
      membersTable(cls, data.members, admin, reload)),
    admin ? adminSection(cls, reload) : null,
  ], ctx.keepFocus ? { keepFocus: true } : undefined);
}
