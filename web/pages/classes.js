// Home page of teachers and administrators: their classes (administrators:
// every class, and a form to create one). Each class leads to its page
// (pages/class.js): homework, pupils, courses, login cards.
import { t, tn } from '/assets/i18n.js';
import { get, post } from '/assets/api.js';
import { h, showPage, loadPage, announce } from '/assets/ui.js';
import { session, navigate } from '/assets/router.js';
import { field, input, formErrors } from '/assets/forms.js';

function createClassForm() {
  const name = input({ name: 'name', autocomplete: 'off' });
  const errors = formErrors();
  async function onSubmit(e) {
    e.preventDefault();
    if (!name.value.trim()) return errors.show([{ input: name, message: t('classes.name_missing') }]);
    try {
      const c = await post('/api/v1/classes', { name: name.value.trim() });
      announce(t('classes.created', { name: c.name }));
      navigate('/app/classes/' + encodeURIComponent(c.id));
    } catch (err) {
      errors.show(err.status === 409 ? [{ input: name, message: t('classes.name_taken') }] : err);
    }
  }
  return h('section', { class: 'card', 'aria-labelledby': 'new-class' },
    h('h2', { id: 'new-class', text: t('classes.new') }),
    h('form', { onsubmit: onSubmit, novalidate: true }, errors.node,
      field(t('classes.name'), name, t('classes.name_hint')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: t('classes.create') }))));
}

export async function render() {
  const classes = await loadPage(async () => (await get('/api/v1/classes')).classes);
  if (!classes) return;
  const admin = session.user.role === 'admin';
  showPage(t('classes.title'), [
    h('h1', { text: t('classes.title') }),
    h('p', { class: 'hint', text: t('todo.hello', { name: session.user.display_name || session.user.login }) }),
    classes.length ? h('ul', { class: 'list two' }, classes.map((c) => h('li', { class: 'item' },
      h('h2', { class: 'item-title' }, h('a', { href: '/app/classes/' + encodeURIComponent(c.id), text: c.name })),
      h('p', { class: 'meta', text: tn('classes.students', c.students) + ', ' + tn('classes.teachers', c.teachers) }))))
      : h('p', { text: admin ? t('classes.none_admin') : t('classes.none') }),
    admin ? createClassForm() : null,
  ]);
}
