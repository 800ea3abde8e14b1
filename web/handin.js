// Sending a hand-in: upload each file not yet on the box (keeping the box's
// file id in the draft as soon as it is known, so a retry never sends a file
// twice), then create the submission, then forget the draft. Any step may
// fail with the Wi-Fi gone; the draft stays queued and is sent again when the
// box answers (on "online", every 20 s while the app is open, and at start).
import { uploadFile, post } from '/assets/api.js';
import { allDrafts, putDraft, deleteDraft } from '/assets/store.js';

// onProgress(fraction 0..1) covers the bytes of every file still to send.
export async function sendDraft(draft, onProgress) {
  const pending = draft.files.filter((f) => !f.fileId);
  const total = pending.reduce((sum, f) => sum + f.size, 0) || 1;
  let done = 0;
  for (const f of pending) {
    const info = await uploadFile(f.blob, f.name, (p) => { if (onProgress) onProgress((done + p * f.size) / total); });
    done += f.size;
    f.fileId = info.id;
    await putDraft(draft);
  }
  if (onProgress) onProgress(1);
  const submission = await post('/api/v1/homework/' + encodeURIComponent(draft.homeworkId) + '/submissions', {
    text: draft.text || '',
    files: draft.files.map((f) => f.fileId),
  });
  await deleteDraft(draft.key);
  return submission;
}

let flushing = null;
const listeners = new Set();
// fn(event): {type: 'sent', draft, submission} | {type: 'failed', draft, error}
export function onQueueEvent(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function emit(ev) { listeners.forEach((fn) => fn(ev)); }

// Sends every queued draft of `userId`. Stops at the first network failure.
export function flushQueue(userId) {
  if (flushing) return flushing;
  flushing = (async () => {
    const drafts = (await allDrafts()).filter((d) => d.queued && d.userId === userId);
    for (const d of drafts) {
      try {
        const submission = await sendDraft(d);
        emit({ type: 'sent', draft: d, submission: submission });
      } catch (err) {
        if (err && err.offline) break;
        // The box refused it (returned meanwhile, homework deleted…): keep it, say why.
        d.queued = false;
        d.error = err && err.code ? err.code : 'generic';
        await putDraft(d);
        emit({ type: 'failed', draft: d, error: err });
      }
    }
  })().finally(() => { flushing = null; });
  return flushing;
}

export async function queuedCount(userId) {
  return (await allDrafts()).filter((d) => d.queued && d.userId === userId).length;
}
