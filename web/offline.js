// What works without the box. Over HTTPS (a secure context) a service worker
// (/sw.js) keeps the app, and this module keeps the student's current
// homework and its attachments in the Cache API, within a size budget. Over
// plain HTTP browsers allow neither: the app says so and offers downloads.
export const API_CACHE = 'relais-api-v1';
export const FILE_CACHE = 'relais-files-v1';
export const FILE_BUDGET_BYTES = 80 * 1024 * 1024;  // all kept attachments together
export const FILE_MAX_BYTES = 30 * 1024 * 1024;     // a larger one is not kept

export function canWorkOffline() {
  return !!(window.isSecureContext && 'serviceWorker' in navigator && 'caches' in window);
}

export function registerServiceWorker() {
  if (!canWorkOffline()) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => { /* the app still works online */ });
}

async function keep(cache, url) {
  if (await cache.match(url)) return;
  const res = await fetch(url, { credentials: 'same-origin' });
  if (res.ok) await cache.put(url, res);
}

// Keeps each homework of `list` (its JSON and its attachments, the smallest
// first, until the budget is used) and drops kept files no longer needed.
export async function keepForOffline(list) {
  if (!canWorkOffline()) return;
  try {
    const api = await caches.open(API_CACHE);
    const files = await caches.open(FILE_CACHE);
    const wanted = new Set();
    const attachments = [];
    for (const hw of list) {
      await keep(api, '/api/v1/homework/' + hw.id);
      for (const f of hw.attachments || []) attachments.push(f);
    }
    attachments.sort((a, b) => a.size - b.size);
    let used = 0;
    for (const f of attachments) {
      if (f.size > FILE_MAX_BYTES || used + f.size > FILE_BUDGET_BYTES) continue;
      const url = new URL('/api/v1/files/' + f.id, location.href).href;
      if (wanted.has(url)) continue;
      wanted.add(url);
      used += f.size;
      await keep(files, url);
    }
    for (const req of await files.keys()) if (!wanted.has(req.url)) await files.delete(req);
  } catch (e) {
    // Offline or storage full: what is kept stays kept.
  }
}

// On logout: nothing of this student stays on a shared tablet.
export async function forgetOfflineData() {
  if (!('caches' in window)) return;
  try {
    await caches.delete(API_CACHE);
    await caches.delete(FILE_CACHE);
  } catch (e) { /* nothing kept */ }
}
