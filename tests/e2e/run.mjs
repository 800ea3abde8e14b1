// End-to-end test of the web app: a real `relais serve --demo` on 127.0.0.1
// (free port, temporary data folder) and Debian's Chromium driven by
// playwright-core, in a phone and a tablet viewport.
//
// Scenario, per viewport: a teacher publishes homework with a PDF in the UI
// (staff.mjs); a student logs in in the UI (phone: a wrong password first, the
// error shown and announced; tablet: with a login card's URL, after a refused one), opens the homework,
// types a text, adds a photo from the "camera" (a 3000×2000 JPEG that must
// arrive at most 1600 px wide), loses the Wi-Fi while handing in (the text and
// photo must survive and go out when the Wi-Fi is back), and sees "Rendu"; the teacher
// marks and returns it in the UI with a corrected file; the student sees the grade,
// the comment and the file. Then the teacher prints login cards and adds a course
// resource (tablet: also a new password for a pupil, and a draft edited and
// deleted); the administrator creates an account and imports a roster (a wrong
// one first) and opens the box's status. Last, a box without administrator
// sends the browser to the first-run page, which sets it up.
// axe-core (WCAG 2.0/2.1 A and AA) runs on every page with zero violations
// allowed; any JavaScript error or Content-Security-Policy violation fails.
// Also: the page reflows at 200 % text; with the box out of reach, the
// service worker serves the kept homework and PDF.
// Screenshots go to build/e2e-screenshots/.
//
// Usage: node run.mjs [path/to/relais]   (RELAIS_BINARY also works)
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { shots, log, startBox, call, loginApi, jpegSize, chromiumArgs, checkA11y, snap } from './lib.mjs';
import { openStaff, publishHomework, markHandIn, printCards, addCourseResource, passwordAndDraft, adminTour, firstRun } from './staff.mjs';

async function runViewport(base, name, viewport, student, studentName, teacherToken, teacher) {
  const title = `Exercices de géométrie (${name})`;
  // The teacher publishes it through the UI, with a PDF.
  const hwId = await publishHomework(teacher.page, name, title);
  const hw = await call(base, 'GET', '/api/v1/homework/' + hwId, teacherToken);
  assert.equal(hw.published, true);
  assert.equal(hw.attachments.length, 1);
  const pdf = hw.attachments[0];
  assert.equal(pdf.name, 'Fiche n°1.pdf');
  log(name, 'published through the UI', hw.id);

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

    if (name === 'tablet') {
      // A login card: a card that no longer works says so; the pupil's own card logs them in.
      await page.goto(`${base}/c/not-a-real-card-token`);
      await page.getByRole('heading', { name: 'Connexion' }).waitFor();
      await page.locator('#login-error').getByText('Cette carte ne marche plus').waitFor();
      await checkA11y(page, name + ' login with a refused card');
      const classes = (await call(base, 'GET', '/api/v1/classes', teacherToken)).classes;
      const classId = classes.find((c) => c.name === '6e A').id;
      const cards = (await call(base, 'POST', `/api/v1/classes/${classId}/login-cards`, teacherToken, {})).cards;
      await page.goto(cards.find((c) => c.user.login === student).url);
    } else {
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
    }

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
    // The page saves a draft 400 ms after the last keystroke (web/pages/homework.js). A wait on the draft
    // appearing in IndexedDB passed and yet the reload found no draft in Chromium 156 (not understood yet), so
    // this stays a pause longer than the debounce.
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

    // The teacher marks and returns it through the UI; the student sees the grade.
    await markHandIn(teacher.page, name, title, studentName, 'Très bien ! Attention à la figure de l\'exercice 3.');
    await page.getByRole('link', { name: 'À faire' }).click();
    await page.getByRole('heading', { name: 'À faire', level: 1 }).waitFor();
    await page.locator('li.item', { hasText: title }).getByText('Corrigé : 16,5/20').waitFor();
    await checkA11y(page, name + ' à faire after return');
    await page.locator('li.item', { hasText: title }).getByRole('link').click();
    await page.getByText('Note : 16,5/20').waitFor();
    await page.getByText('Très bien ! Attention à la figure').waitFor();
    await page.getByText('Corrigé.pdf', { exact: true }).waitFor();
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
  const setupDir = mkdtempSync(join(tmpdir(), 'relais-e2e-setup-'));
  const box = await startBox(dataDir);
  let browser = null;
  log('relais at', box.url);
  let failed = false;
  try {
    const teacherToken = await loginApi(box.url, 'm.martin', 'demo-prof');
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: chromiumArgs, headless: true });
    const viewports = [
      ['phone', { width: 390, height: 844 }, 'lea.dubois', 'Léa Dubois'],
      ['tablet', { width: 800, height: 1280 }, 'noah.petit', 'Noah Petit'],
    ];
    for (const [name, viewport, student, studentName] of viewports) {
      const teacher = await openStaff(browser, box.url, viewport, 'm.martin', 'demo-prof');
      try {
        await runViewport(box.url, name, viewport, student, studentName, teacherToken, teacher);
        await printCards(teacher.page, name);
        await addCourseResource(teacher.page, name);
        if (name === 'tablet') await passwordAndDraft(teacher.page, box.url, name);
      } catch (e) {
        await snap(teacher.page, `${name}-teacher-failure`).catch(() => {});
        throw e;
      } finally {
        await teacher.context.close();
      }
      assert.deepEqual(teacher.errors, [], 'JavaScript errors in the teacher pages (' + name + ')');
      log(name, 'student and teacher: ok');
      const admin = await openStaff(browser, box.url, viewport, 'admin', 'demo-admin');
      try {
        await adminTour(admin.page, name, name);
      } catch (e) {
        await snap(admin.page, `${name}-admin-failure`).catch(() => {});
        throw e;
      } finally {
        await admin.context.close();
      }
      assert.deepEqual(admin.errors, [], 'JavaScript errors in the admin pages (' + name + ')');
      log(name, 'admin: ok');
    }
    await firstRun(browser, setupDir, { width: 390, height: 844 });
  } catch (e) {
    failed = true;
    console.error(e && e.stack ? e.stack : e);
  } finally {
    if (browser) await browser.close().catch(() => {});
    box.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(setupDir, { recursive: true, force: true });
  }
  log(failed ? 'FAILED' : 'all end-to-end checks passed', '— screenshots in', shots);
  process.exit(failed ? 1 : 0);
}

main();
