// The courses of my classes: for each class, its courses, their sections and
// resources (files shown like attachments, links marked as needing the
// internet, text as written).
import { t } from '/assets/i18n.js';
import { get } from '/assets/api.js';
import { h, showPage, loadPage } from '/assets/ui.js';
import { renderFile } from '/assets/attachments.js';

function resource(r) {
  if (r.kind === 'file' && r.file) {
    return h('li', { class: 'resource' }, h('h5', { text: r.title }), h('ul', { class: 'attachments' }, renderFile(r.file)));
  }
  if (r.kind === 'link') {
    return h('li', { class: 'resource' },
      h('h5', { text: r.title }),
      h('p', null, h('a', { href: r.url, rel: 'noopener noreferrer', target: '_blank', text: r.url })),
      h('p', { class: 'hint', text: t('courses.needs_internet') }));
  }
  return h('li', { class: 'resource' }, h('h5', { text: r.title }), h('p', { class: 'comment', text: r.body || '' }));
}

function course(c) {
  return h('section', { class: 'card', 'aria-label': c.title },
    h('h3', { text: c.title }),
    c.sections.length ? c.sections.map((s) => h('div', null,
      h('h4', { class: 'subject', text: s.title }),
      s.resources.length ? h('ul', { class: 'list' }, s.resources.map(resource)) : h('p', { class: 'hint', text: t('courses.empty_section') })))
      : h('p', { class: 'hint', text: t('courses.empty_course') }));
}

export async function render() {
  const byClass = [];
  const classes = await loadPage(async () => {
    const list = (await get('/api/v1/classes')).classes;
    for (const c of list) byClass.push((await get('/api/v1/classes/' + encodeURIComponent(c.id) + '/courses')).courses);
    return list;
  });
  if (!classes) return;
  showPage(t('courses.title'), [
    h('h1', { text: t('courses.title') }),
    classes.length ? classes.map((c, i) => h('section', { 'aria-labelledby': 'class-' + c.id },
      h('h2', { id: 'class-' + c.id, text: c.name }),
      byClass[i].length ? byClass[i].map(course) : h('p', { text: t('courses.none') })))
      : h('p', { text: t('courses.no_class') }),
  ]);
}
