// Marking one hand-in: the pupil's work (latest version first, earlier ones
// folded), then the feedback form: comment, grade out of 20, corrected files,
// "Rendre la correction". Previous and next hand-ins (the neighbouring rows
// of the class list that have a submission) are one tap away, so a teacher
// marks a pile without going back to the list.
// Route: /app/homework/:id/hand-ins/:sid.
import { t, formatDateTime, formatNumber, formatSize } from '/assets/i18n.js';
import { get, post } from '/assets/api.js';
import { h, showPage, loadPage, announce } from '/assets/ui.js';
import { renderFiles } from '/assets/attachments.js';
import { field, input, formErrors, uploader } from '/assets/forms.js';
import { displayName } from '/assets/accounts.js';
import { rowBadges, handInUrl } from '/assets/pages/homework-teacher.js';

function versionBlock(v, latest) {
  const body = [
    h('p', { class: 'meta', text: t('hw.handed_in_at', { date: formatDateTime(v.submitted_at) }) + (v.late ? ' · ⚠ ' + t('state.late') : '') }),
    v.text ? h('p', { class: 'comment', text: v.text }) : h('p', { class: 'hint', text: t('mark.no_text') }),
    v.files && v.files.length ? renderFiles(v.files) : null,
  ];
  if (latest) return h('div', null, body);
  return h('details', null, h('summary', { text: t('mark.version', { n: v.version }) }), body);
}

// "16,5" or "16.5" → 16.5; '' → null; NaN when not a number.
function parseGrade(s) {
  const v = s.trim().replace(',', '.');
  if (!v) return null;
  return /^\d{1,2}(\.\d{1,2})?$/.test(v) ? parseFloat(v) : NaN;
}

export async function render(ctx) {
  const data = await loadPage(async () => {
    const hw = await get('/api/v1/homework/' + encodeURIComponent(ctx.params.id));
    const rows = (await get('/api/v1/homework/' + encodeURIComponent(ctx.params.id) + '/submissions')).submissions;
    const sub = await get('/api/v1/submissions/' + encodeURIComponent(ctx.params.sid));
    return { hw: hw, rows: rows, sub: sub };
  });
  if (!data) return;
  const hw = data.hw;
  const sub = data.sub;
  const withWork = data.rows.filter((r) => r.submission);
  const index = withWork.findIndex((r) => r.submission.id === sub.id);
  const row = index >= 0 ? withWork[index] : { status: sub.status, submission: sub, student: sub.student };
  const prev = index > 0 ? withWork[index - 1] : null;
  const next = index >= 0 && index + 1 < withWork.length ? withWork[index + 1] : null;
  // The next one still to mark, after this one (wrapping around).
  let nextToMark = null;
  for (let i = 1; i < withWork.length; i++) {
    const r = withWork[(index + i) % withWork.length];
    if (r.status === 'handed_in' && r.submission.id !== sub.id) { nextToMark = r; break; }
  }
  const name = displayName(sub.student);
  const f = sub.feedback;

  const comment = h('textarea', { name: 'comment' });
  comment.value = f ? f.comment || '' : '';
  const grade = input({ name: 'grade', inputmode: 'decimal', autocomplete: 'off', class: 'short',
    value: f && f.grade !== null && f.grade !== undefined ? formatNumber(f.grade) : '' });
  let files = f && f.files ? f.files.slice() : [];
  const fileList = h('ul', { class: 'file-list', tabindex: '-1', 'aria-label': t('mark.files') });
  function drawFiles() {
    fileList.textContent = '';
    fileList.hidden = files.length === 0;
    files.forEach((file) => {
      const remove = h('button', { type: 'button', class: 'secondary small', text: t('hw.remove'),
        'aria-label': t('hw.remove_named', { name: file.name }) });
      remove.addEventListener('click', () => {
        files = files.filter((x) => x.id !== file.id);
        drawFiles();
        announce(t('hw.removed', { name: file.name }));
        fileList.focus();
      });
      fileList.appendChild(h('li', null, h('span', { class: 'name', text: file.name + ' (' + formatSize(file.size) + ')' }), remove));
    });
  }
  drawFiles();
  const upload = uploader(t('mark.add_file'), (info) => { files.push(info); drawFiles(); announce(t('hw.added', { name: info.name })); });
  const errors = formErrors();
  const done = h('div', { class: 'ok-box', tabindex: '-1', hidden: true, id: 'mark-done' });
  const submit = h('button', { type: 'submit', class: 'primary', text: f ? t('mark.update') : t('mark.return') });

  async function onSubmit(e) {
    e.preventDefault();
    const g = parseGrade(grade.value);
    if (Number.isNaN(g) || (g !== null && (g < 0 || g > 20))) return errors.show([{ input: grade, message: t('mark.grade_invalid') }]);
    if (!comment.value.trim() && g === null && !files.length) return errors.show([{ input: comment, message: t('mark.empty') }]);
    errors.clear();
    submit.disabled = true;
    try {
      await post('/api/v1/submissions/' + encodeURIComponent(sub.id) + '/feedback',
        { comment: comment.value, grade: g, files: files.map((x) => x.id) });
      done.textContent = '';
      done.appendChild(h('p', { text: t('mark.returned', { name: name }) }));
      if (nextToMark) {
        done.appendChild(h('p', null, h('a', { class: 'button primary', href: handInUrl(hw.id, nextToMark.submission.id),
          text: t('mark.next_to_mark', { name: displayName(nextToMark.student) }) })));
      } else {
        done.appendChild(h('p', null, t('mark.all_marked') + ' ', h('a', { href: '/app/homework/' + encodeURIComponent(hw.id), text: t('mark.back') })));
      }
      done.hidden = false;
      badges.textContent = '';
      rowBadges({ status: 'returned', submission: sub }).forEach((b) => badges.appendChild(b));
      submit.textContent = t('mark.update');
      announce(t('mark.returned', { name: name }));
      done.focus();
    } catch (err) {
      errors.show(err);
    } finally {
      submit.disabled = false;
    }
  }

  const heading = t('mark.title', { name: name });
  const badges = h('p', { class: 'meta badges' }, rowBadges(row));
  const nav = h('nav', { class: 'pager', 'aria-label': t('mark.pager') },
    prev ? h('a', { class: 'button secondary', href: handInUrl(hw.id, prev.submission.id), rel: 'prev',
      text: '‹ ' + t('mark.prev', { name: displayName(prev.student) }) }) : null,
    h('a', { class: 'button secondary', href: '/app/homework/' + encodeURIComponent(hw.id), text: t('mark.list') }),
    next ? h('a', { class: 'button secondary', href: handInUrl(hw.id, next.submission.id), rel: 'next',
      text: t('mark.next', { name: displayName(next.student) }) + ' ›' }) : null);

  showPage(heading + ' — ' + hw.title, [
    h('p', { class: 'subject' }, hw.subject + ' · ', h('a', { href: '/app/homework/' + encodeURIComponent(hw.id), text: hw.title })),
    h('h1', { text: heading }),
    badges,
    index >= 0 ? h('p', { class: 'meta', text: t('mark.position', { n: index + 1, total: withWork.length }) }) : null,
    nav,
    h('section', { 'aria-labelledby': 'mark-work', class: 'card' },
      h('h2', { id: 'mark-work', text: t('mark.work') }),
      sub.versions.map((v, i) => versionBlock(v, i === 0))),
    h('section', { 'aria-labelledby': 'mark-feedback', class: 'card' },
      h('h2', { id: 'mark-feedback', text: t('mark.feedback') }),
      f ? h('p', { class: 'meta', text: t('hw.returned_at', { date: formatDateTime(f.returned_at) }) }) : null,
      h('form', { onsubmit: onSubmit, novalidate: true },
        errors.node,
        field(t('mark.comment'), comment),
        field(t('mark.grade'), grade, t('mark.grade_hint')),
        h('div', null, h('span', { class: 'label', id: 'mark-files-label', text: t('mark.files') }),
          h('p', { class: 'hint', text: t('mark.files_hint') }), fileList, upload),
        h('div', { class: 'actions' }, submit),
        done)),
  ]);
}
