// End-to-end test of the web app: a real `relais serve --demo` on 127.0.0.1
// (free port, temporary data folder) and Debian's Chromium driven by
// playwright-core, in a phone and a tablet viewport.
//
// Scenario, per viewport: a teacher publishes homework with a PDF (over the
// API until the teacher pages exist); a student logs in in the UI (a wrong
// password first: the error is shown and announced), opens the homework,
// types a text, adds a photo from the "camera" (a 3000×2000 JPEG that must
// arrive at most 1600 px wide), loses the Wi-Fi while handing in (the text and
// photo must survive and go out when the Wi-Fi is back), and sees "Rendu"; the teacher
// grades and returns; the student sees the grade and the comment.
// axe-core (WCAG 2.0/2.1 A and AA) runs on every page with zero violations
// allowed; any JavaScript error or Content-Security-Policy violation fails.
// Also: the page reflows at 200 % text; with the box out of reach, the
// service worker serves the kept homework and PDF.
// Screenshots go to build/e2e-screenshots/.
//
// Usage: node run.mjs [path/to/relais]   (RELAIS_BINARY also works)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const binary = process.argv[2] || process.env.RELAIS_BINARY || join(root, 'build/relais');
const shots = process.env.RELAIS_SCREENSHOTS || join(root, 'build/e2e-screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const started = Date.now();

function log(...args) { console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args); }

// --- The box --------------------------------------------------------------------
function startBox(dataDir) {
  return new Promise((resolveBox, reject) => {
    const child = spawn(binary, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0', '--demo'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('relais did not start:\n' + out)), 10000);
    const onData = (d) => {
      out += d;
      const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolveBox({ child, url: m[1] }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => { if (process.env.RELAIS_E2E_VERBOSE) process.stderr.write(d); });
    child.on('error', (e) => reject(new Error('cannot start ' + binary + ': ' + e.message)));
    child.on('exit', (code) => reject(new Error('relais exited with ' + code + ':\n' + out)));
  });
}

async function call(base, method, path, token, body, headers) {
  const res = await fetch(base + path, {
    method,
    headers: Object.assign({ Authorization: 'Bearer ' + token }, headers || {}),
    body: body === undefined ? undefined : (body instanceof Uint8Array ? body : JSON.stringify(body)),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function loginApi(base, login, password) {
  const res = await fetch(base + '/api/v1/session', { method: 'POST', body: JSON.stringify({ login, password }) });
  assert.equal(res.status, 200, 'API login of ' + login);
  return (await res.json()).token;
}

// A one-page PDF that Chromium renders ("Fiche d'exercices").
function pdfBytes() {
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
function jpegSize(buf) {
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
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function checkA11y(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\n/g, ' ')).join('\n    '));
  assert.equal(problems.length, 0, `axe-core on "${label}":\n  ${problems.join('\n  ')}`);
}

async function snap(page, name) {
  await page.screenshot({ path: join(shots, name + '.png'), fullPage: true });
}

async function runViewport(base, name, viewport, student, teacherToken, classId) {
  const title = `Exercices de géométrie (${name})`;
  const pdf = await call(base, 'POST', '/api/v1/files', teacherToken, pdfBytes(),
    { 'Content-Type': 'application/pdf', 'X-Filename': encodeURIComponent('Fiche n°1.pdf') });
  const due = new Date(Date.now() + 7 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  const hw = await call(base, 'POST', '/api/v1/homework', teacherToken, {
    class_id: classId, subject: 'Mathématiques', title, due_at: due, published: true, attachments: [pdf.id],
    instructions: 'Faire les exercices 1 à 3 de la fiche.\nRecopier les figures sur le cahier.',
  });
  log(name, 'published', hw.id);

  const profile = mkdtempSync(join(tmpdir(), 'relais-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: chromiumArgs, headless: true,
    viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris',
  });
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('pageerror', (e) => errors.push('page error: ' + e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(m.text())) errors.push('console: ' + m.text());
    });
    page.setDefaultTimeout(10000);

    // Log in: a wrong password first.
    await page.goto(base + '/');
    await page.waitForURL(/\/app\/login/);
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
    await checkA11y(page, name + ' login');
    await snap(page, `${name}-1-login`);
    await page.getByLabel('Identifiant').fill(student);
    await page.getByLabel('Mot de passe').fill('pas-le-bon');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.locator('#login-error').getByText('Identifiant ou mot de passe incorrect').waitFor();
    await page.locator('#alert').getByText('Identifiant ou mot de passe incorrect').waitFor();
    await checkA11y(page, name + ' login error');
    await page.getByLabel('Mot de passe').fill('demo-eleve');
    await page.getByRole('button', { name: 'Se connecter' }).click();

    // À faire.
    await page.getByRole('heading', { name: 'À faire', level: 1 }).waitFor();
    const card = page.locator('li.item', { hasText: title });
    await card.getByText('À faire', { exact: true }).waitFor();
    await checkA11y(page, name + ' à faire');
    await snap(page, `${name}-2-todo`);
    // Text zoomed to 200 %: the page reflows, nothing needs horizontal scrolling.
    await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `at 200 % text the page is ${overflow}px too wide`);
    await snap(page, `${name}-2b-todo-zoom200`);
    await page.evaluate(() => { document.documentElement.style.fontSize = ''; });

    // The homework page.
    await card.getByRole('link', { name: title }).click();
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    await page.getByText('Faire les exercices 1 à 3 de la fiche.').waitFor();
    await page.getByText('Fiche n°1.pdf').waitFor();
    const download = page.getByRole('link', { name: /Télécharger/ }).first();
    assert.match(await download.getAttribute('href'), /\?download=1$/);
    await checkA11y(page, name + ' homework');
    await snap(page, `${name}-3-homework`);

    // Away from the box: 127.0.0.1 is a secure context, so the service worker
    // kept the shell, and "À faire" kept this homework and its PDF.
    await page.waitForFunction(async (id) => {
      const api = await caches.open('relais-api-v1');
      const files = await caches.open('relais-files-v1');
      return !!navigator.serviceWorker.controller && !!(await api.match('/api/v1/homework/' + id)) &&
        (await files.keys()).length > 0;
    }, hw.id, { timeout: 10000 });
    await context.setOffline(true);
    await page.reload();
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    await page.locator('#banner').getByText("La box n'est pas joignable").waitFor();
    const pdfOffline = await page.evaluate(async (url) => (await fetch(url)).status, pdf.url);
    assert.equal(pdfOffline, 200, 'the PDF opens offline');
    await checkA11y(page, name + ' homework offline');
    await snap(page, `${name}-3b-offline`);
    await context.setOffline(false);
    await page.reload();
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();

    // A draft survives a reload.
    await page.getByLabel('Mon travail (texte)').fill('Exercice 1 : le triangle est rectangle.');
    await page.waitForTimeout(600);
    await page.reload();
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    assert.equal(await page.getByLabel('Mon travail (texte)').inputValue(), 'Exercice 1 : le triangle est rectangle.');

    // A photo from the "camera": 3000×2000, must leave at most 1600 px wide.
    const photo = Buffer.from(await page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 3000; c.height = 2000;
      const g = c.getContext('2d');
      for (let i = 0; i < 60; i++) { g.fillStyle = `hsl(${i * 6},70%,50%)`; g.fillRect(i * 50, 0, 50, 2000); }
      return c.toDataURL('image/jpeg', 0.95).split(',')[1];
    }), 'base64');
    await page.locator('input[type=file][capture]').setInputFiles({ name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.locator('ul.thumbs li').waitFor();
    await checkA11y(page, name + ' homework with a photo');
    await snap(page, `${name}-4-photo`);

    // The Wi-Fi drops during the hand-in: nothing is lost, retry sends it.
    await context.setOffline(true);
    await page.locator('#banner').getByText("La box n'est pas joignable").waitFor();
    await page.getByRole('button', { name: 'Rendre mon travail' }).click();
    await page.getByText('La box ne répond pas. Ton travail est gardé').first().waitFor();
    await snap(page, `${name}-5-offline`);
    await context.setOffline(false);
    await page.locator('#banner').getByText("La box n'est pas joignable").waitFor({ state: 'hidden' });
    // Back online: the queued hand-in goes out by itself (the "online" event).
    await page.getByRole('heading', { name: "Ce que j'ai rendu" }).waitFor();
    await page.locator('.badge-done').first().waitFor();
    await checkA11y(page, name + ' handed in');
    await snap(page, `${name}-6-handed-in`);

    // What arrived on the box.
    const rows = (await call(base, 'GET', `/api/v1/homework/${hw.id}/submissions`, teacherToken)).submissions;
    const row = rows.find((r) => r.student.login === student);
    assert.equal(row.status, 'handed_in');
    const version = row.submission.versions[0];
    assert.equal(version.text, 'Exercice 1 : le triangle est rectangle.');
    assert.equal(version.files.length, 1, 'one photo, sent once despite the retry');
    const sent = Buffer.from(await (await fetch(base + version.files[0].url, { headers: { Authorization: 'Bearer ' + teacherToken } })).arrayBuffer());
    const size = jpegSize(sent);
    assert.ok(size && Math.max(size.width, size.height) === 1600, 'downscaled to 1600 px: ' + JSON.stringify(size));
    log(name, `photo ${photo.length} B ${3000}x${2000} -> ${sent.length} B ${size.width}x${size.height}`);

    // The teacher returns it; the student sees the grade.
    await call(base, 'POST', `/api/v1/submissions/${row.submission.id}/feedback`, teacherToken,
      { comment: 'Très bien ! Attention à la figure de l\'exercice 3.', grade: 16.5 });
    await page.getByRole('link', { name: 'À faire' }).click();
    await page.getByRole('heading', { name: 'À faire', level: 1 }).waitFor();
    await page.locator('li.item', { hasText: title }).getByText('Corrigé : 16,5/20').waitFor();
    await checkA11y(page, name + ' à faire after return');
    await page.locator('li.item', { hasText: title }).getByRole('link').click();
    await page.getByText('Note : 16,5/20').waitFor();
    await page.getByText('Très bien ! Attention à la figure').waitFor();
    assert.equal(await page.getByRole('button', { name: /Rendre/ }).count(), 0, 'no hand-in form once returned');
    await checkA11y(page, name + ' feedback');
    await snap(page, `${name}-7-feedback`);

    // Courses, then English, then log out.
    await page.getByRole('link', { name: 'Cours' }).click();
    await page.getByRole('heading', { name: 'Cours', level: 1 }).waitFor();
    await checkA11y(page, name + ' courses');
    await snap(page, `${name}-8-courses`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Courses', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await checkA11y(page, name + ' courses in English');
    await page.getByRole('button', { name: 'Français' }).click();
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('relais.user')), null);
  } catch (e) {
    const page = context.pages()[0];
    if (page) await snap(page, `${name}-failure`).catch(() => {});
    if (errors.length) console.error('Errors in the page:\n  ' + errors.join('\n  '));
    throw e;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  assert.deepEqual(errors, [], 'JavaScript errors or CSP violations in ' + name);
}

async function main() {
  mkdirSync(shots, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'relais-e2e-data-'));
  const box = await startBox(dataDir);
  log('relais at', box.url);
  let failed = false;
  try {
    const teacher = await loginApi(box.url, 'm.martin', 'demo-prof');
    const classes = (await call(box.url, 'GET', '/api/v1/classes', teacher)).classes;
    const classId = classes.find((c) => c.name === '6e A').id;
    await runViewport(box.url, 'phone', { width: 390, height: 844 }, 'lea.dubois', teacher, classId);
    log('phone viewport: ok');
    await runViewport(box.url, 'tablet', { width: 800, height: 1280 }, 'noah.petit', teacher, classId);
    log('tablet viewport: ok');
  } catch (e) {
    failed = true;
    console.error(e && e.stack ? e.stack : e);
  } finally {
    box.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
  log(failed ? 'FAILED' : 'all end-to-end checks passed', '— screenshots in', shots);
  process.exit(failed ? 1 : 0);
}

main();
