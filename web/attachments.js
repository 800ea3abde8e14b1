// Shows one stored file in the page, by type: PDF in a frame where the
// browser can render it (always with open and download links: Chrome for
// Android cannot show a PDF inside a page), video and audio with controls
// (the box serves byte ranges, so they seek), images that zoom, and a
// download link for everything else.
import { t, formatSize } from '/assets/i18n.js';
import { fileUrl, downloadUrl } from '/assets/api.js';
import { h } from '/assets/ui.js';

// True when the browser shows PDF inside a page (desktop browsers, iPadOS);
// false for Chrome on Android, which only downloads them.
export function inlinePdf() {
  if (navigator.pdfViewerEnabled === true) return true;
  if (navigator.pdfViewerEnabled === false) return false;
  if (/Android/i.test(navigator.userAgent)) return false;
  const types = navigator.mimeTypes;
  return !!(types && types['application/pdf']);
}

function links(file) {
  const open = h('a', { href: fileUrl(file), target: '_blank', rel: 'noopener', text: t('file.open') });
  const download = h('a', { href: downloadUrl(file), download: file.name, text: t('file.download', { size: formatSize(file.size) }) });
  return h('p', { class: 'actions' }, open, download);
}

export function renderFile(file) {
  const type = file.content_type || '';
  const url = fileUrl(file);
  const parts = [h('p', { class: 'attachment-name', text: file.name })];
  if (type === 'application/pdf') {
    if (inlinePdf()) parts.push(h('iframe', { class: 'pdf-frame', src: url, title: t('file.pdf_frame', { name: file.name }) }));
    else parts.push(h('p', { class: 'hint', text: t('file.pdf_no_inline') }));
  } else if (type.indexOf('video/') === 0) {
    parts.push(h('video', { src: url, controls: true, preload: 'metadata', playsinline: true, 'aria-label': file.name }));
  } else if (type.indexOf('audio/') === 0) {
    parts.push(h('audio', { src: url, controls: true, preload: 'metadata', 'aria-label': file.name }));
  } else if (/^image\/(jpeg|png|gif|webp|bmp)$/.test(type)) {
    const box = h('div', { class: 'zoom-box' }, h('img', { src: url, alt: t('file.image_alt', { name: file.name }), loading: 'lazy' }));
    const zoom = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', text: t('file.zoom') });
    zoom.addEventListener('click', () => {
      const on = !box.classList.contains('zoomed');
      box.classList.toggle('zoomed', on);
      zoom.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    parts.push(box, h('p', null, zoom));
  }
  parts.push(links(file));
  return h('li', { class: 'attachment' }, parts);
}

export function renderFiles(files) {
  return h('ul', { class: 'attachments' }, files.map(renderFile));
}
