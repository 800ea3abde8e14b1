// What must survive a closed tab or a dropped Wi-Fi: the hand-ins a student is
// writing or sending (text, photos and files as Blobs) live in IndexedDB until
// the box has acknowledged them.
//
// A draft: {key: userId + ':' + homeworkId, userId, homeworkId, title, text,
//   files: [{localId, name, type, size, blob, fileId|null}], queued: bool,
//   error: code|null, updatedAt}. `queued` means "the student pressed hand in";
//   a queued draft goes out as soon as the box answers.
const DB_NAME = 'relais';
const STORE = 'drafts';
let dbPromise = null;
const memory = new Map();  // when IndexedDB is unavailable (some private modes)

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve) => {
      if (!window.indexedDB) return resolve(null);
      let req;
      try { req = indexedDB.open(DB_NAME, 1); } catch (e) { return resolve(null); }
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    });
  }
  return dbPromise;
}

function run(mode, op) {
  return openDb().then((db) => new Promise((resolve, reject) => {
    if (!db) {
      const r = op(null);
      return resolve(r ? r.result : undefined);
    }
    const tx = db.transaction(STORE, mode);
    const req = op(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  }));
}

export function draftKey(userId, homeworkId) { return userId + ':' + homeworkId; }

export function getDraft(key) {
  return run('readonly', (s) => (s ? s.get(key) : { result: memory.get(key) }));
}

export function putDraft(draft) {
  draft.updatedAt = Date.now();
  return run('readwrite', (s) => (s ? s.put(draft) : (memory.set(draft.key, draft), null)));
}

export function deleteDraft(key) {
  return run('readwrite', (s) => (s ? s.delete(key) : (memory.delete(key), null)));
}

export function allDrafts() {
  return run('readonly', (s) => (s ? s.getAll() : { result: Array.from(memory.values()) }));
}
