// The box's JSON API (docs/api.md). Errors come back as ApiError with the
// HTTP status (0 when the box could not be reached) and the API's error code.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
  get offline() { return this.status === 0; }
}

let onUnauthenticated = null;
// Called when an API call answers 401 (the session ended).
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

async function parse(res) {
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.ok) return data;
  const err = data && data.error ? data.error : {};
  if (res.status === 401 && onUnauthenticated) onUnauthenticated();
  const e = new ApiError(res.status, err.code || 'http_' + res.status, err.message);
  e.details = err;  // the whole error object: a roster import lists its wrong lines there
  throw e;
}

// A request with no answer after this long is treated as a lost connection
// (a Wi-Fi that drops mid-request often leaves it hanging rather than failing).
const STALL_MS = 30000;

// Sends `body` (a Blob or string; undefined for none) as it is, with
// `contentType`; resolves with the JSON answer.
export async function sendRaw(method, path, body, contentType) {
  const init = { method: method, credentials: 'same-origin', headers: {} };
  const abort = window.AbortController ? new AbortController() : null;
  if (abort) init.signal = abort.signal;
  const timer = setTimeout(() => { if (abort) abort.abort(); }, STALL_MS);
  if (body !== undefined) {
    init.headers['Content-Type'] = contentType;
    init.body = body;
  }
  try {
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network', e && e.message);
    }
    return await parse(res);
  } finally {
    clearTimeout(timer);
  }
}

export function api(method, path, body) {
  return sendRaw(method, path, body === undefined ? undefined : JSON.stringify(body), 'application/json');
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

// Uploads one file (a Blob) and resolves with its description. `onProgress`
// gets a fraction from 0 to 1. XMLHttpRequest rather than fetch: fetch has no
// upload progress in these browsers.
export function uploadFile(blob, name, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/files');
    xhr.setRequestHeader('Content-Type', blob.type || 'application/octet-stream');
    xhr.setRequestHeader('X-Filename', encodeURIComponent(name));
    // No timeout for the whole upload (a big video on a slow Wi-Fi is fine),
    // but one for silence: no byte sent or received for STALL_MS.
    let last = Date.now();
    const watchdog = setInterval(() => { if (Date.now() - last > STALL_MS) xhr.abort(); }, 5000);
    const alive = () => { last = Date.now(); };
    xhr.upload.onprogress = (e) => {
      alive();
      if (onProgress && e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = alive;
    xhr.onprogress = alive;
    xhr.onloadend = () => clearInterval(watchdog);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      if (xhr.status === 401 && onUnauthenticated) onUnauthenticated();
      const err = data && data.error ? data.error : {};
      reject(new ApiError(xhr.status, err.code || 'http_' + xhr.status, err.message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network'));
    xhr.ontimeout = () => reject(new ApiError(0, 'network'));
    xhr.onabort = () => reject(new ApiError(0, 'network'));
    xhr.send(blob);
  });
}

// The URL to show a stored file, and to download it.
export function fileUrl(file) { return file.url || '/api/v1/files/' + file.id; }
export function downloadUrl(file) { return fileUrl(file) + '?download=1'; }
