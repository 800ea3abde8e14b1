// Forms for teachers and administrators: labelled fields, and errors shown the
// accessible way (RGAA 11.10, 11.11): a summary at the top of the form that
// receives focus and links to each wrong field, a message under each field
// (aria-describedby) and aria-invalid on it. Also the upload of one file with
// a progress bar, and generated passwords.
import { t, tn, formatSize } from '/assets/i18n.js';
import { uploadFile } from '/assets/api.js';
import { h, uid, errorMessage } from '/assets/ui.js';

// <div class=field><label/><p class=hint/>input</div>; gives the input an id.
export function field(label, input, hint) {
  if (!input.id) input.id = uid('f');
  const parts = [h('label', { for: input.id, text: label })];
  if (hint) {
    parts.push(h('p', { class: 'hint', id: input.id + '-hint', text: hint }));
    input.setAttribute('aria-describedby', input.id + '-hint');
    input.setAttribute('data-hint', input.id + '-hint');
  }
  parts.push(input);
  return h('div', { class: 'field' }, parts);
}

export function input(props) {
  return h('input', Object.assign({ type: 'text' }, props));
}

// The error summary of a form. errors.show([{input, message}] | string) and
// errors.clear(); `node` goes first in the form.
export function formErrors() {
  const node = h('div', { class: 'error-box error-summary', tabindex: '-1', hidden: true });
  let marked = [];
  function clear() {
    for (const el of marked) {
      el.removeAttribute('aria-invalid');
      const hint = el.getAttribute('data-hint');
      if (hint) el.setAttribute('aria-describedby', hint);
      else el.removeAttribute('aria-describedby');
      const msg = document.getElementById(el.id + '-error');
      if (msg) msg.remove();
    }
    marked = [];
    node.hidden = true;
    node.textContent = '';
  }
  // `errors`: a message, an ApiError, or [{input, message}]. Focus moves to the summary.
  function show(errors) {
    clear();
    if (!Array.isArray(errors)) {
      const message = typeof errors === 'string' ? errors : errorMessage(errors);
      node.appendChild(h('p', { class: 'summary-title', text: message }));
    } else {
      node.appendChild(h('h2', { class: 'summary-title', text: tn('form.errors', errors.length) }));
      node.appendChild(h('ul', null, errors.map((e) => {
        if (!e.input) return h('li', { text: e.message });
        const link = h('a', { href: '#' + e.input.id, text: e.message });
        link.addEventListener('click', (ev) => { ev.preventDefault(); e.input.focus(); });
        return h('li', null, link);
      })));
      for (const e of errors) {
        if (!e.input || marked.indexOf(e.input) >= 0) continue;
        const msg = h('p', { class: 'field-error', id: e.input.id + '-error', text: e.message });
        e.input.insertAdjacentElement('afterend', msg);
        e.input.setAttribute('aria-invalid', 'true');
        const hint = e.input.getAttribute('data-hint');
        e.input.setAttribute('aria-describedby', (hint ? hint + ' ' : '') + msg.id);
        marked.push(e.input);
      }
    }
    node.hidden = false;
    node.focus();
  }
  return { node: node, show: show, clear: clear };
}

// A file picker that uploads what is chosen at once, with a progress bar.
// onUploaded(fileInfo) for each stored file. `accept` narrows the picker.
export function uploader(label, onUploaded, options) {
  const opts = options || {};
  const picker = h('input', { type: 'file', id: uid('up'), multiple: !opts.single, accept: opts.accept || null });
  const progress = h('progress', { max: 100, value: 0 });
  const progressText = h('span');
  const nameText = h('span', { class: 'label' });
  const box = h('div', { class: 'progress', hidden: true }, nameText, progress, progressText);
  const message = h('p', { class: 'field-error', role: 'alert', hidden: true });
  picker.addEventListener('change', async () => {
    const files = Array.from(picker.files);
    picker.value = '';
    message.hidden = true;
    for (const file of files) {
      nameText.textContent = t('upload.sending', { name: file.name, size: formatSize(file.size) });
      progress.value = 0;
      progressText.textContent = '';
      box.hidden = false;
      try {
        const info = await uploadFile(file, file.name, (p) => {
          const pct = Math.round(p * 100);
          progress.value = pct;
          progressText.textContent = t('hw.percent', { n: pct });
        });
        box.hidden = true;
        onUploaded(info);
      } catch (err) {
        box.hidden = true;
        message.textContent = t('upload.failed', { name: file.name }) + ' ' + errorMessage(err);
        message.hidden = false;
        picker.focus();
        return;
      }
    }
  });
  return h('div', { class: 'uploader' },
    h('span', { class: 'file-pick' }, picker, h('label', { for: picker.id, class: 'button secondary', text: label })),
    box, message);
}

// A password easy to read out and type: three groups of four characters
// without look-alikes (no 0/o, 1/l/i).
export function generatePassword() {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  let s = '';
  for (let i = 0; i < 12; i++) {
    if (i && i % 4 === 0) s += '-';
    s += alphabet.charAt(bytes[i] % alphabet.length);
  }
  return s;
}

// Parses a local date ("2026-12-01") and time ("18:00") into an ISO instant.
// Built from numbers: Safari 13 reads "2026-12-01T18:00" as UTC.
export function localToIso(date, time) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const tm = /^(\d{1,2}):(\d{2})/.exec(time || '18:00');
  if (!d || !tm) return null;
  const when = new Date(+d[1], +d[2] - 1, +d[3], +tm[1], +tm[2]);
  return isNaN(when.getTime()) ? null : when.toISOString().replace(/\.\d+Z$/, 'Z');
}

function pad(n) { return (n < 10 ? '0' : '') + n; }

// The local date and time inputs' values for an ISO instant.
export function isoToLocal(iso) {
  const d = new Date(iso);
  return { date: d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()), time: pad(d.getHours()) + ':' + pad(d.getMinutes()) };
}

// A table with its caption, in a box that scrolls sideways on narrow screens.
// The box is a focusable region named by the caption, so keyboard users can
// scroll it too (WCAG 2.1.1).
export function tableBox(caption, head, rows) {
  const id = uid('table');
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': id },
    h('table', null,
      h('caption', { id: id, text: caption }),
      h('thead', null, h('tr', null, head.map((label) => (label === null ? null : h('th', { scope: 'col', text: label }))))),
      h('tbody', null, rows)));
}
