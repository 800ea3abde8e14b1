// A homework for a student: instructions, attachments, the teacher's
// feedback once returned, and the hand-in form (text, photos from the camera,
// files). What the student types or shoots is kept in IndexedDB as they go
// (store.js), so neither a closed tab nor a dropped Wi-Fi loses it.
import { t, formatDateTime, formatNumber, formatSize } from '/assets/i18n.js';
import { get } from '/assets/api.js';
import { h, uid, showPage, announce, alertNow, errorMessage, loadPage } from '/assets/ui.js';
import { session, navigate } from '/assets/router.js';
import { renderFiles } from '/assets/attachments.js';
import { stateBadges } from '/assets/pages/todo.js';
import { draftKey, getDraft, putDraft } from '/assets/store.js';
import { downscale } from '/assets/photos.js';
import { sendDraft, onQueueEvent } from '/assets/handin.js';
import { canWorkOffline } from '/assets/offline.js';

let stopListening = null;

export async function render(ctx) {
  if (stopListening) { stopListening(); stopListening = null; }
  let submission = null;
  const hw = await loadPage(async () => {
    const found = await get('/api/v1/homework/' + encodeURIComponent(ctx.params.id));
    const mine = found.my_submission;
    if (mine && mine.submission_id) submission = await get('/api/v1/submissions/' + encodeURIComponent(mine.submission_id));
    return found;
  });
  if (!hw) return;
  const key = draftKey(session.user.id, hw.id);
  const draft = await getDraft(key).catch(() => null);

  const returned = submission && submission.status === 'returned';
  const parts = [
    h('p', { class: 'subject', text: hw.subject + ' · ' + hw.class_name }),
    h('h1', { text: hw.title }),
    h('p', { class: 'meta', text: t('hw.due', { date: formatDateTime(hw.due_at) }) }),
    h('p', { class: 'meta badges' }, stateBadges(hw, draft && draft.queued)),
  ];
  if (hw.instructions) {
    parts.push(h('section', { 'aria-labelledby': 'hw-instructions', class: 'card' },
      h('h2', { id: 'hw-instructions', text: t('hw.instructions') }),
      h('p', { class: 'instructions', text: hw.instructions })));
  }
  if (hw.attachments && hw.attachments.length) {
    parts.push(h('section', { 'aria-labelledby': 'hw-files' },
      h('h2', { id: 'hw-files', text: t('hw.attachments') }),
      canWorkOffline() ? null : h('p', { class: 'note', text: t('offline.http_attachments') }),
      renderFiles(hw.attachments)));
  }
  if (returned) parts.push(feedbackSection(submission));
  if (submission && submission.versions && submission.versions.length) parts.push(handedInSection(submission));
  if (!returned) parts.push(handInSection(hw, key, draft, submission));
  showPage(hw.title, parts);
}

function feedbackSection(submission) {
  const f = submission.feedback || {};
  return h('section', { 'aria-labelledby': 'hw-feedback', class: 'card' },
    h('h2', { id: 'hw-feedback', text: t('hw.feedback') }),
    f.grade === null || f.grade === undefined ? null
      : h('p', { class: 'grade', text: t('hw.grade', { grade: formatNumber(f.grade) }) }),
    f.comment ? h('p', { class: 'comment', text: f.comment }) : null,
    f.returned_at ? h('p', { class: 'meta', text: t('hw.returned_at', { date: formatDateTime(f.returned_at) }) }) : null,
    f.files && f.files.length ? [h('h3', { text: t('hw.feedback_files') }), renderFiles(f.files)] : null);
}

function handedInSection(submission) {
  const v = submission.versions[0];
  return h('section', { 'aria-labelledby': 'hw-mine', class: 'card' },
    h('h2', { id: 'hw-mine', text: t('hw.mine') }),
    h('p', { class: 'meta', text: t('hw.handed_in_at', { date: formatDateTime(v.submitted_at) }) +
      (v.late ? ' · ' + t('state.late') : '') }),
    v.text ? h('p', { class: 'comment', text: v.text }) : null,
    v.files && v.files.length ? renderFiles(v.files) : null);
}

function handInSection(hw, key, draft, submission) {
  if (!draft) {
    draft = { key: key, userId: session.user.id, homeworkId: hw.id, title: hw.title, text: '', files: [], queued: false, error: null };
  }
  const textId = uid('text');
  const text = h('textarea', { id: textId, name: 'text', 'aria-describedby': textId + '-hint' });
  text.value = draft.text || '';
  const thumbs = h('ul', { class: 'thumbs', 'aria-label': t('hw.my_files') });
  const progress = h('progress', { max: 100, value: 0 });
  const progressText = h('span');
  const progressBox = h('div', { class: 'progress', hidden: true }, h('span', { class: 'label', text: t('hw.sending') }), progress, progressText);
  const message = h('div', { hidden: true });
  const retry = h('button', { type: 'button', class: 'secondary', hidden: true, text: t('hw.retry') });
  const submit = h('button', { type: 'submit', class: 'primary', text: submission ? t('hw.hand_in_again') : t('hw.hand_in') });
  const photoInput = h('input', { type: 'file', id: uid('photo'), accept: 'image/*', capture: 'environment' });
  const fileInput = h('input', { type: 'file', id: uid('file'), multiple: true });
  let saveTimer = null;
  let sending = false;

  const save = () => putDraft(draft).catch(() => alertNow(t('hw.not_saved')));
  text.addEventListener('input', () => {
    draft.text = text.value;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 400);
  });

  function showMessage(kind, s) {
    message.className = kind;
    message.textContent = s;
    message.hidden = false;
  }

  function drawThumbs() {
    thumbs.textContent = '';
    draft.files.forEach((f) => {
      const remove = h('button', { type: 'button', class: 'secondary', text: t('hw.remove'), 'aria-label': t('hw.remove_named', { name: f.name }) });
      remove.addEventListener('click', () => {
        draft.files = draft.files.filter((x) => x !== f);
        save();
        drawThumbs();
        announce(t('hw.removed', { name: f.name }));
      });
      const preview = /^image\//.test(f.type)
        ? h('img', { src: URL.createObjectURL(f.blob), alt: t('file.image_alt', { name: f.name }) }) : null;
      thumbs.appendChild(h('li', null, preview, h('span', { class: 'name', text: f.name + ' (' + formatSize(f.size) + ')' }), remove));
    });
    thumbs.hidden = draft.files.length === 0;
  }

  async function addFiles(list, fromCamera) {
    for (const file of Array.from(list)) {
      let blob = file;
      let name = file.name || 'fichier';
      if (/^image\//.test(file.type)) {
        blob = await downscale(file);
        if (blob !== file) name = name.replace(/\.[^.]*$/, '') + '.jpg';
      }
      if (fromCamera && !file.name) name = 'photo-' + (draft.files.length + 1) + '.jpg';
      draft.files.push({ localId: uid('f'), name: name, type: blob.type || file.type, size: blob.size, blob: blob, fileId: null });
      announce(t('hw.added', { name: name }));
    }
    await save();
    drawThumbs();
  }
  photoInput.addEventListener('change', () => { addFiles(photoInput.files, true); photoInput.value = ''; });
  fileInput.addEventListener('change', () => { addFiles(fileInput.files, false); fileInput.value = ''; });

  async function send() {
    if (sending) return;
    sending = true;
    submit.disabled = true;
    retry.hidden = true;
    progressBox.hidden = false;
    message.hidden = true;
    try {
      await sendDraft(draft, (p) => {
        const pct = Math.round(p * 100);
        progress.value = pct;
        progressText.textContent = t('hw.percent', { n: pct });
      });
      progressBox.hidden = true;
      announce(t('hw.sent'));
      navigate(location.pathname, { replace: true });
    } catch (err) {
      progressBox.hidden = true;
      if (err && err.offline) {
        showMessage('note', t('hw.kept_offline'));
        retry.hidden = false;
        alertNow(t('hw.kept_offline'));
      } else {
        draft.queued = false;
        await save();
        showMessage('error-box', errorMessage(err));
        alertNow(errorMessage(err));
      }
    } finally {
      sending = false;
      submit.disabled = false;
    }
  }

  async function onSubmit(e) {
    e.preventDefault();
    clearTimeout(saveTimer);
    draft.text = text.value;
    if (!draft.text.trim() && draft.files.length === 0) {
      showMessage('error-box', t('hw.empty'));
      alertNow(t('hw.empty'));
      text.focus();
      return;
    }
    draft.queued = true;
    draft.error = null;
    await save();
    send();
  }
  retry.addEventListener('click', send);

  // The queue (app.js) may send this draft while the page is open.
  stopListening = onQueueEvent((ev) => {
    if (ev.draft.key !== key || ev.type !== 'sent') return;
    navigate(location.pathname, { replace: true });
  });

  drawThumbs();
  if (draft.queued) {
    showMessage('note', t('hw.waiting'));
    retry.hidden = false;
  } else if (draft.error) {
    showMessage('error-box', t('error.' + draft.error) === 'error.' + draft.error ? t('error.generic') : t('error.' + draft.error));
  }

  return h('section', { 'aria-labelledby': 'hw-handin', class: 'card' },
    h('h2', { id: 'hw-handin', text: submission ? t('hw.hand_in_again_title') : t('hw.hand_in_title') }),
    h('form', { onsubmit: onSubmit, novalidate: true },
      h('div', null,
        h('label', { for: textId, text: t('hw.text') }),
        h('p', { class: 'hint', id: textId + '-hint', text: t('hw.text_hint') }),
        text),
      h('div', null,
        h('span', { class: 'label', text: t('hw.photos') }),
        h('p', { class: 'hint', text: t('hw.photos_hint') }),
        h('div', { class: 'actions' },
          h('span', { class: 'file-pick' }, photoInput, h('label', { for: photoInput.id, class: 'button secondary', text: t('hw.take_photo') })),
          h('span', { class: 'file-pick' }, fileInput, h('label', { for: fileInput.id, class: 'button secondary', text: t('hw.add_file') })))),
      thumbs,
      progressBox,
      message,
      h('div', { class: 'actions' }, submit, retry)));
}
