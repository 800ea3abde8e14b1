// Publishing homework, and editing it: title, subject, instructions, due date
// and time, attachments (files uploaded here with a progress bar, or files
// picked from the class's course resources). "Publier" makes it visible to
// the pupils; "Enregistrer le brouillon" keeps it for the teachers only.
// Routes: /app/classes/:id/homework/new and /app/homework/:id/edit.
import { t, formatSize } from '/assets/i18n.js';
import { get, post, patch } from '/assets/api.js';
import { h, showPage, loadPage, announce } from '/assets/ui.js';
import { navigate } from '/assets/router.js';
import { field, input, formErrors, uploader, localToIso, isoToLocal } from '/assets/forms.js';
import { findClass } from '/assets/pages/class.js';

const SUBJECT_KEY = 'relais.last_subject';

function courseFiles(courses) {
  const out = [];
  for (const c of courses) {
    for (const s of c.sections) {
      for (const r of s.resources) {
        if (r.kind === 'file' && r.file) out.push({ file: r.file, label: r.title + ' — ' + c.title + ', ' + s.title });
      }
    }
  }
  return out;
}

export async function render(ctx) {
  // /app/homework/:id/edit, or /app/classes/:id/homework/new.
  const editing = location.pathname.indexOf('/app/homework/') === 0;
  const data = await loadPage(async () => {
    const hw = editing ? await get('/api/v1/homework/' + encodeURIComponent(ctx.params.id)) : null;
    const classId = hw ? hw.class_id : ctx.params.id;
    const cls = await findClass(classId);
    const courses = (await get('/api/v1/classes/' + encodeURIComponent(classId) + '/courses')).courses;
    return { hw: hw, cls: cls, courses: courses };
  });
  if (!data) return;
  const hw = data.hw;
  const cls = data.cls;
  let lastSubject = '';
  try { lastSubject = localStorage.getItem(SUBJECT_KEY) || ''; } catch (e) { lastSubject = ''; }

  const title = input({ name: 'title', value: hw ? hw.title : '', autocomplete: 'off' });
  const subject = input({ name: 'subject', value: hw ? hw.subject : lastSubject, autocomplete: 'off' });
  const instructions = h('textarea', { name: 'instructions' });
  instructions.value = hw ? hw.instructions || '' : '';
  const due = hw ? isoToLocal(hw.due_at) : null;
  const dueDate = input({ type: 'date', name: 'due_date', value: due ? due.date : '' });
  const dueTime = input({ type: 'time', name: 'due_time', value: due ? due.time : '08:00' });
  const errors = formErrors();

  // Attachments: what is attached now, in order.
  let attached = hw ? hw.attachments.slice() : [];
  const attachedList = h('ul', { class: 'file-list', id: 'attached-list', tabindex: '-1', 'aria-labelledby': 'attached-title' });
  const picks = courseFiles(data.courses);
  const pickBoxes = [];
  function drawAttached() {
    attachedList.textContent = '';
    if (!attached.length) attachedList.appendChild(h('li', { class: 'hint', text: t('hwe.no_files') }));
    attached.forEach((f) => {
      const remove = h('button', { type: 'button', class: 'secondary small', text: t('hw.remove'),
        'aria-label': t('hw.remove_named', { name: f.name }) });
      remove.addEventListener('click', () => {
        attached = attached.filter((x) => x.id !== f.id);
        pickBoxes.forEach((b) => { if (b.value === f.id) b.checked = false; });
        drawAttached();
        announce(t('hw.removed', { name: f.name }));
        attachedList.focus();
      });
      attachedList.appendChild(h('li', null, h('span', { class: 'name', text: f.name + ' (' + formatSize(f.size) + ')' }), remove));
    });
  }
  drawAttached();
  const upload = uploader(t('hwe.upload'), (info) => {
    attached.push(info);
    drawAttached();
    announce(t('hw.added', { name: info.name }));
  });
  const pickList = picks.length ? h('fieldset', { class: 'picks' },
    h('legend', { text: t('hwe.from_courses') }),
    picks.map((p) => {
      const box = h('input', { type: 'checkbox', value: p.file.id, id: 'pick-' + p.file.id,
        checked: attached.some((f) => f.id === p.file.id) });
      box.addEventListener('change', () => {
        if (box.checked) {
          if (!attached.some((f) => f.id === p.file.id)) attached.push(p.file);
          announce(t('hw.added', { name: p.file.name }));
        } else {
          attached = attached.filter((f) => f.id !== p.file.id);
          announce(t('hw.removed', { name: p.file.name }));
        }
        drawAttached();
      });
      pickBoxes.push(box);
      return h('div', { class: 'check' }, box, h('label', { for: box.id, text: p.label }));
    })) : null;

  let publish = true;
  async function onSubmit(e) {
    e.preventDefault();
    const problems = [];
    if (!title.value.trim()) problems.push({ input: title, message: t('hwe.title_missing') });
    if (!subject.value.trim()) problems.push({ input: subject, message: t('hwe.subject_missing') });
    const dueAt = localToIso(dueDate.value, dueTime.value || '18:00');
    if (!dueDate.value) problems.push({ input: dueDate, message: t('hwe.due_missing') });
    else if (!dueAt) problems.push({ input: dueDate, message: t('hwe.due_invalid') });
    if (problems.length) return errors.show(problems);
    errors.clear();
    const body = {
      title: title.value.trim(), subject: subject.value.trim(), instructions: instructions.value,
      due_at: dueAt, attachments: attached.map((f) => f.id), published: publish,
    };
    try {
      let saved;
      if (hw) saved = await patch('/api/v1/homework/' + encodeURIComponent(hw.id), body);
      else saved = await post('/api/v1/homework', Object.assign({ class_id: cls.id }, body));
      try { localStorage.setItem(SUBJECT_KEY, body.subject); } catch (e2) { /* not kept */ }
      announce(publish ? t('hwe.published', { title: saved.title }) : t('hwe.saved_draft', { title: saved.title }));
      navigate('/app/homework/' + encodeURIComponent(saved.id));
    } catch (err) {
      errors.show(err);
    }
  }
  const publishButton = h('button', { type: 'submit', class: 'primary', text: hw && hw.published ? t('hwe.save') : t('hwe.publish') });
  const draftButton = h('button', { type: 'submit', class: 'secondary', text: hw && hw.published ? t('hwe.unpublish') : t('hwe.save_draft') });
  publishButton.addEventListener('click', () => { publish = true; });
  draftButton.addEventListener('click', () => { publish = false; });

  const heading = hw ? t('hwe.edit_title') : t('hwe.new_title', { cls: cls.name });
  showPage(heading, [
    h('p', { class: 'subject' }, h('a', { href: '/app/classes/' + encodeURIComponent(cls.id), text: cls.name })),
    h('h1', { text: heading }),
    h('form', { onsubmit: onSubmit, novalidate: true, class: 'card' },
      errors.node,
      h('p', { class: 'hint', text: t('form.all_required') }),
      field(t('hwe.title'), title),
      field(t('hwe.subject'), subject, t('hwe.subject_hint')),
      field(t('hwe.instructions'), instructions, t('hwe.instructions_hint')),
      h('fieldset', { class: 'due' },
        h('legend', { text: t('hwe.due') }),
        h('div', { class: 'row' }, field(t('hwe.due_date'), dueDate), field(t('hwe.due_time'), dueTime, t('hwe.due_time_hint')))),
      h('fieldset', null,
        h('legend', { id: 'attached-title', text: t('hwe.attachments') }),
        attachedList,
        upload,
        pickList),
      h('div', { class: 'actions' }, publishButton, draftButton,
        h('a', { href: hw ? '/app/homework/' + encodeURIComponent(hw.id) : '/app/classes/' + encodeURIComponent(cls.id), text: t('common.cancel') }))),
  ]);
}
