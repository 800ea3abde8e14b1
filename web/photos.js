// Photos from the tablet's camera are several megabytes; a class sending them
// at full size fills the Wi-Fi. They are redrawn here at most 1600 px on
// their longest side and re-encoded as JPEG before upload.
export const MAX_SIDE = 1600;
const QUALITY = 0.82;

function loadImage(blob) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('decode')); };
    img.src = url;
  });
}

// Resolves with a JPEG Blob no larger than MAX_SIDE, or with `file` itself
// when it is not a picture the browser can draw (or is already small).
export async function downscale(file) {
  if (!/^image\/(jpeg|png|webp|bmp|heic|heif)$/.test(file.type)) return file;
  let img;
  try { img = await loadImage(file); } catch (e) { return file; }
  const w = img.naturalWidth, h = img.naturalHeight;
  const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
  if (scale === 1 && file.type === 'image/jpeg' && file.size < 600 * 1024) return file;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';  // transparent PNGs become white, not black
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  return blob && blob.size < file.size ? blob : file;
}
