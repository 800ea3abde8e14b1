// The courses of one class, for its teachers: create a course, its sections,
// and their resources (a file uploaded with a progress bar: PDF, video,
// audio, images…; a link; a text); rename and delete them. After each action
// the page is redrawn and focus returns to the part that changed.
// Route: /app/classes/:id/courses.
import { t } from '/assets/i18n.js';
import { get, post, patch, del } from '/assets/api.js';
import { h, showPage, loadPage, announce, alertNow, errorMessage, uid } from '/assets/ui.js';
import { renderFile } from '/assets/attachments.js';
import { field, input, formErrors, uploader } from '/assets/forms.js';
import { findClass } from '/assets/pages/class.js';

const ACCEPT = 'application/pdf,video/*,audio/*,image/*,.pdf,.odt,.ods,.odp,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.epub,.h5p,.txt,.csv';

// A one-field form ("Titre" + button) that calls `action(title)`.
function titleForm(label, buttonText, action, value) {
  const title = input({ name: 'title', value: value || '', autocomplete: 'off' });
  const errors = formErrors();
  async function onSubmit(e) {
    e.preventDefault();
    if (!title.value.trim()) return errors.show([{ input: title, message: t('ce.title_missing') }]);
    try { await action(title.value.trim()); } catch (err) { errors.show(err); }
  }
  return h('form', { onsubmit: onSubmit, novalidate: true, class: 'inline-form' }, errors.node,
    field(label, title), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary', text: buttonText })));
}

function deleteButton(label, question, url, done) {
  const b = h('button', { type: 'button', class: 'danger small', text: t('ce.delete'), 'aria-label': label });
  b.addEventListener('click', async () => {
    if (!window.confirm(question)) return;
    try { await del(url); done(); } catch (err) { alertNow(errorMessage(err)); }
  });
  return b;
}

// The form to add a resource to section `s`.
function resourceForm(s, redraw) {
  const kind = h('select', { name: 'kind' },
    h('option', { value: 'file', text: t('ce.kind_file') }),
    h('option', { value: 'link', text: t('ce.kind_link') }),
    h('option', { value: 'text', text: t('ce.kind_text') }));
  const title = input({ name: 'title', autocomplete: 'off' });
  const url = input({ type: 'url', name: 'url', inputmode: 'url', placeholder: 'https://' });
  const body = h('textarea', { name: 'body' });
  const errors = formErrors();
  let file = null;
  const chosen = h('p', { class: 'meta', hidden: true });
  const upload = uploader(t('ce.choose_file'), (info) => {
    file = info;
    if (!title.value.trim()) title.value = info.name.replace(/\.[^.]*$/, '');
    chosen.textContent = t('ce.file_ready', { name: info.name });
    chosen.hidden = false;
    announce(t('ce.file_ready', { name: info.name }));
  }, { single: true, accept: ACCEPT });
  const fileBox = h('div', null, h('p', { class: 'hint', text: t('ce.file_hint') }), upload, chosen);
  const urlBox = field(t('ce.url'), url, t('ce.url_hint'));
  const bodyBox = field(t('ce.body'), body);
  function sync() {
    fileBox.hidden = kind.value !== 'file';
    urlBox.hidden = kind.value !== 'link';
    bodyBox.hidden = kind.value !== 'text';
  }
  kind.addEventListener('change', sync);
  sync();
  async function onSubmit(e) {
    e.preventDefault();
    const problems = [];
    if (kind.value === 'file' && !file) problems.push({ input: fileBox.querySelector('input[type=file]'), message: t('ce.file_missing') });
    if (kind.value === 'link' && !/^https?:\/\/\S+$/.test(url.value.trim())) problems.push({ input: url, message: t('ce.url_invalid') });
    if (kind.value === 'text' && !body.value.trim()) problems.push({ input: body, message: t('ce.body_missing') });
    if (!title.value.trim()) problems.push({ input: title, message: t('ce.title_missing') });
    if (problems.length) return errors.show(problems);
    const payload = { kind: kind.value, title: title.value.trim() };
    if (kind.value === 'file') payload.file_id = file.id;
    if (kind.value === 'link') payload.url = url.value.trim();
    if (kind.value === 'text') payload.body = body.value;
    try {
      await post('/api/v1/sections/' + encodeURIComponent(s.id) + '/resources', payload);
      announce(t('ce.resource_added', { title: payload.title }));
      redraw('section-' + s.id);
    } catch (err) { errors.show(err); }
  }
  const formId = uid('add');
  return h('details', { class: 'add-resource' },
    h('summary', { text: t('ce.add_resource') }),
    h('form', { onsubmit: onSubmit, novalidate: true, id: formId }, errors.node,
      field(t('ce.kind'), kind), fileBox, urlBox, bodyBox, field(t('ce.title'), title),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: t('ce.add') }))));
}

function resourceItem(r, redraw, sectionId) {
  let shown;
  if (r.kind === 'file' && r.file) shown = h('ul', { class: 'attachments' }, renderFile(r.file));
  else if (r.kind === 'link') shown = h('p', null, h('a', { href: r.url, rel: 'noopener noreferrer', target: '_blank', text: r.url }));
  else shown = h('p', { class: 'comment', text: r.body || '' });
  return h('li', { class: 'resource' },
    h('h4', { text: r.title }), shown,
    h('div', { class: 'actions' }, deleteButton(t('ce.delete_named', { title: r.title }), t('ce.delete_resource_q', { title: r.title }),
      '/api/v1/resources/' + encodeURIComponent(r.id), () => { announce(t('ce.deleted', { title: r.title })); redraw('section-' + sectionId); })));
}

function sectionBlock(c, s, redraw) {
  return h('section', { class: 'section-block', 'aria-labelledby': 'section-' + s.id },
    h('h3', { id: 'section-' + s.id, tabindex: '-1', text: s.title }),
    s.resources.length ? h('ul', { class: 'list' }, s.resources.map((r) => resourceItem(r, redraw, s.id)))
      : h('p', { class: 'hint', text: t('courses.empty_section') }),
    resourceForm(s, redraw),
    h('details', null, h('summary', { text: t('ce.section_settings', { title: s.title }) }),
      titleForm(t('ce.section_title'), t('ce.rename'), async (title) => {
        await patch('/api/v1/sections/' + encodeURIComponent(s.id), { title: title });
        announce(t('ce.renamed', { title: title }));
        redraw('section-' + s.id);
      }, s.title),
      h('div', { class: 'actions' }, deleteButton(t('ce.delete_named', { title: s.title }), t('ce.delete_section_q', { title: s.title }),
        '/api/v1/sections/' + encodeURIComponent(s.id), () => { announce(t('ce.deleted', { title: s.title })); redraw('course-' + c.id); }))));
}

function courseBlock(c, redraw) {
  return h('section', { class: 'card', 'aria-labelledby': 'course-' + c.id },
    h('h2', { id: 'course-' + c.id, tabindex: '-1', text: c.title }),
    c.sections.length ? c.sections.map((s) => sectionBlock(c, s, redraw)) : h('p', { class: 'hint', text: t('courses.empty_course') }),
    titleForm(t('ce.new_section'), t('ce.add_section'), async (title) => {
      const s = await post('/api/v1/courses/' + encodeURIComponent(c.id) + '/sections', { title: title });
      announce(t('ce.section_added', { title: title }));
      redraw('section-' + s.id);
    }),
    h('details', null, h('summary', { text: t('ce.course_settings', { title: c.title }) }),
      titleForm(t('ce.course_title'), t('ce.rename'), async (title) => {
        await patch('/api/v1/courses/' + encodeURIComponent(c.id), { title: title });
        announce(t('ce.renamed', { title: title }));
        redraw('course-' + c.id);
      }, c.title),
      h('div', { class: 'actions' }, deleteButton(t('ce.delete_named', { title: c.title }), t('ce.delete_course_q', { title: c.title }),
        '/api/v1/courses/' + encodeURIComponent(c.id), () => { announce(t('ce.deleted', { title: c.title })); redraw('courses-title'); }))));
}

export async function render(ctx) {
  const id = ctx.params.id;
  const data = await loadPage(async () => {
    const cls = await findClass(id);
    const courses = (await get('/api/v1/classes/' + encodeURIComponent(id) + '/courses')).courses;
    return { cls: cls, courses: courses };
  });
  if (!data) return;
  const redraw = (focusId) => render(ctx).then(() => {
    const el = document.getElementById(focusId);
    if (el) { el.focus(); el.scrollIntoView({ block: 'start' }); }
  });
  const heading = t('ce.page_title', { cls: data.cls.name });
  showPage(heading, [
    h('p', { class: 'subject' }, h('a', { href: '/app/classes/' + encodeURIComponent(id), text: data.cls.name })),
    h('h1', { id: 'courses-title', text: heading }),
    h('p', { class: 'hint', text: t('ce.intro') }),
    data.courses.length ? data.courses.map((c) => courseBlock(c, redraw)) : h('p', { text: t('courses.none') }),
    h('section', { class: 'card', 'aria-labelledby': 'new-course' },
      h('h2', { id: 'new-course', tabindex: '-1', text: t('ce.new_course') }),
      titleForm(t('ce.course_title'), t('ce.create_course'), async (title) => {
        const c = await post('/api/v1/classes/' + encodeURIComponent(id) + '/courses', { title: title });
        announce(t('ce.course_added', { title: title }));
        redraw('course-' + c.id);
      })),
  ]);
}
