// Translations. Every string of the app is in one file per language
// (/assets/i18n/fr.js, /assets/i18n/en.js); French is the default. The choice
// is kept in localStorage and sets <html lang>.
import fr from '/assets/i18n/fr.js';
import en from '/assets/i18n/en.js';

const catalogues = { fr: fr, en: en };
const STORAGE_KEY = 'relais.lang';
let current = 'fr';

try {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && catalogues[saved]) current = saved;
} catch (e) { /* private mode: stay in French */ }

export function language() { return current; }
export function languages() { return Object.keys(catalogues); }

export function setLanguage(lang) {
  if (!catalogues[lang]) return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch (e) { /* not kept */ }
  document.documentElement.lang = lang;
}

// t('todo.due', {date: '…'}): the string for `key` in the current language,
// with {name} placeholders replaced. Falls back to French, then to the key.
export function t(key, params) {
  let s = catalogues[current][key];
  if (s === undefined) s = fr[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
  return s;
}

// Plural: t(key + '.one') or t(key + '.other').
export function tn(key, n, params) {
  const p = Object.assign({ n: formatNumber(n) }, params || {});
  return t(key + (n === 1 || (current === 'fr' && n === 0) ? '.one' : '.other'), p);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

// "lundi 1 décembre à 18:00"
export function formatDateTime(iso) {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(current, {
    weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

// "sam. 21 nov., 18:00": for tables.
export function formatShortDateTime(iso) {
  return new Intl.DateTimeFormat(current, {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(current, { weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(iso));
}

export function formatSize(bytes) {
  if (bytes >= 1073741824) return t('size.gb', { n: formatNumber(Math.round(bytes / 107374182.4) / 10) });
  if (bytes >= 1048576) return t('size.mb', { n: formatNumber(Math.round(bytes / 104857.6) / 10) });
  return t('size.kb', { n: formatNumber(Math.max(1, Math.round(bytes / 1024))) });
}

document.documentElement.lang = current;
