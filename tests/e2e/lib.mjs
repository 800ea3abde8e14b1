// Shared pieces of the end-to-end tests: the box (a real `relais serve` on
// 127.0.0.1), API calls for setting things up and checking what arrived, test
// files (a PDF, JPEG sizes), Chromium's flags, the axe-core check, screenshots.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
export const binary = process.argv[2] || process.env.RELAIS_BINARY || join(root, 'build/relais');
export const shots = process.env.RELAIS_SCREENSHOTS || join(root, 'build/e2e-screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const started = Date.now();

export function log(...args) { console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args); }

// --- The box --------------------------------------------------------------------
export function startBox(dataDir, extraArgs) {
  return new Promise((resolveBox, reject) => {
    const child = spawn(binary, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0'].concat(extraArgs === undefined ? ['--demo'] : extraArgs),
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('relais did not start:\n' + out)), 10000);
    const onData = (d) => {
      out += d;
      const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolveBox({ child, url: m[1], output: () => out }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => { if (process.env.RELAIS_E2E_VERBOSE) process.stderr.write(d); });
    child.on('error', (e) => reject(new Error('cannot start ' + binary + ': ' + e.message)));
    child.on('exit', (code) => reject(new Error('relais exited with ' + code + ':\n' + out)));
  });
}

export async function call(base, method, path, token, body, headers) {
  const res = await fetch(base + path, {
    method,
    headers: Object.assign({ Authorization: 'Bearer ' + token }, headers || {}),
    body: body === undefined ? undefined : (body instanceof Uint8Array ? body : JSON.stringify(body)),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

export async function loginApi(base, login, password) {
  const res = await fetch(base + '/api/v1/session', { method: 'POST', body: JSON.stringify({ login, password }) });
  assert.equal(res.status, 200, 'API login of ' + login);
  return (await res.json()).token;
}

// A one-page PDF that Chromium renders ("Fiche d'exercices").
export function pdfBytes() {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const text = 'BT /F1 28 Tf 72 760 Td (Fiche d\'exercices n. 1) Tj ET';
  objs[3] = `<< /Length ${text.length} >>\nstream\n${text}\nendstream`;
  let pdf = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(pdf.length); pdf += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = pdf.length;
  pdf += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) pdf += String(off).padStart(10, '0') + ' 00000 n \n';
  pdf += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

// Width and height of a JPEG, from its SOF marker.
export function jpegSize(buf) {
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) { i++; continue; }
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return null;
}

// --- The browser -----------------------------------------------------------------
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function checkA11y(page, label) {
  // Injected once per document: the app changes pages without reloading.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\n/g, ' ')).join('\n    '));
  assert.equal(problems.length, 0, `axe-core on "${label}":\n  ${problems.join('\n  ')}`);
}

export async function snap(page, name) {
  await page.screenshot({ path: join(shots, name + '.png'), fullPage: true });
}

