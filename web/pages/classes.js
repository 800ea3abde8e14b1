// Home page of teachers and administrators: their classes. (The teacher and
// administrator pages build on this; see docs/web.md.)
import { t } from '/assets/i18n.js';
import { get } from '/assets/api.js';
import { h, showPage, loadPage } from '/assets/ui.js';
import { session } from '/assets/router.js';

export async function render() {
  const classes = await loadPage(async () => (await get('/api/v1/classes')).classes);
  if (!classes) return;
  showPage(t('classes.title'), [
    h('h1', { text: t('classes.title') }),
    h('p', { class: 'hint', text: t('todo.hello', { name: session.user.display_name || session.user.login }) }),
    classes.length ? h('ul', { class: 'list two' }, classes.map((c) => h('li', { class: 'item' },
      h('h2', { class: 'item-title', text: c.name }),
      h('p', { class: 'meta', text: t('classes.counts', { students: c.students, teachers: c.teachers }) }))))
      : h('p', { text: t('courses.no_class') }),
  ]);
}
