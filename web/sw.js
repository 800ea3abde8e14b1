// The service worker (registered only in a secure context, see offline.js).
//   - The app shell and its assets are precached at install; the list below
//     is filled in at build time with the content-hashed URLs, so a new build
//     is a new worker that fetches the new files and drops the old ones.
//   - Pages of the app: network first, the cached shell when the box is out
//     of reach.
//   - /assets/: from the cache (the URLs never change content).
//   - Stored files (/api/v1/files/ID): from the cache when the app kept them
//     (offline.js), with byte ranges cut from the cached copy so video seeks.
//   - Other API reads: network first, the last answer when offline.
//   Writes (hand-ins) never go through a cache: they wait in IndexedDB.
const SHELL_CACHE = 'relais-shell';
const API_CACHE = 'relais-api-v1';
const FILE_CACHE = 'relais-files-v1';
const PRECACHE = ["__PRECACHE__"];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    const keep = new Set(PRECACHE.map((u) => new URL(u, self.location.href).href));
    for (const req of await cache.keys()) if (!keep.has(req.url)) await cache.delete(req);
    await self.clients.claim();
  })());
});

async function networkFirst(request, cacheName, fallbackUrl) {
  try {
    const res = await fetch(request);
    if (res.ok && cacheName) (await caches.open(cacheName)).put(request, res.clone());
    return res;
  } catch (e) {
    const cached = await caches.match(fallbackUrl || request);
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  return cached || fetch(request);
}

// A 206 cut from a cached whole file, for <video> and <audio> seeking offline.
async function fromCachedFile(request) {
  const cache = await caches.open(FILE_CACHE);
  const cached = await cache.match(request.url);
  if (!cached) return fetch(request);
  const range = request.headers.get('Range');
  const m = range && /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m) return cached;
  const blob = await cached.blob();
  let start = m[1] === '' ? blob.size - Number(m[2]) : Number(m[1]);
  let end = m[1] === '' || m[2] === '' ? blob.size - 1 : Math.min(Number(m[2]), blob.size - 1);
  if (start < 0) start = 0;
  if (start > end || start >= blob.size) {
    return new Response('', { status: 416, headers: { 'Content-Range': 'bytes */' + blob.size } });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      'Content-Type': cached.headers.get('Content-Type') || 'application/octet-stream',
      'Content-Range': 'bytes ' + start + '-' + end + '/' + blob.size,
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
    },
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (request.mode === 'navigate' && (path === '/' || path.indexOf('/app/') === 0)) {
    event.respondWith(networkFirst(request, null, '/'));
  } else if (path.indexOf('/assets/') === 0) {
    event.respondWith(cacheFirst(request));
  } else if (/^\/api\/v1\/files\/[^/]+$/.test(path) && !url.search) {
    event.respondWith(fromCachedFile(request));
  } else if (/^\/api\/v1\/(homework|submissions|classes|courses)(\/|$)/.test(path)) {
    event.respondWith(networkFirst(request, API_CACHE));
  }
});
