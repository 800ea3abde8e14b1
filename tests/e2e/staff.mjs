// End-to-end steps of the teachers' and administrators' pages, driven through
// the UI like a person would: log in, publish homework with a PDF (the empty
// form first: the error summary gets focus and links the wrong fields), mark
// and return a hand-in with a corrected file, prepare and print login cards
// (QR images must load), manage a course resource; the administrator finds
// and creates accounts and imports a roster with a wrong line (line-numbered
// errors, nothing imported) then a good one, and reads the box's status; the
// first-run page of a box without administrator. axe-core on every page.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { log, startBox, pdfBytes, checkA11y, snap } from './lib.mjs';

function watchErrors(page, errors) {
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push('console: ' + m.text());
  });
  page.setDefaultTimeout(10000);
}

// A logged-in teacher or administrator in their own browser context.
export async function openStaff(browser, base, viewport, login, password) {
  const context = await browser.newContext({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  const page = await context.newPage();
  const errors = [];
  watchErrors(page, errors);
  await page.goto(base + '/');
  await page.waitForURL(/\/app\/login/);
  await page.getByLabel('Identifiant').fill(login);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('heading', { name: 'Mes classes', level: 1 }).waitFor();
  return { context, page, errors };
}

async function focusedClass(page) {
  return page.evaluate(() => document.activeElement && document.activeElement.className);
}

function isoDay(daysFromNow) {
  const d = new Date(Date.now() + daysFromNow * 86400e3);
  return d.toISOString().slice(0, 10);
}

// Home → 6e A → "Donner un devoir" → the form, with a PDF uploaded. Returns the homework id.
export async function publishHomework(page, name, title) {
  await page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Mes classes' }).click();
  await page.getByRole('heading', { name: 'Mes classes', level: 1 }).waitFor();
  await checkA11y(page, name + ' teacher: my classes');
  await snap(page, `${name}-t1-classes`);
  await page.getByRole('link', { name: '6e A' }).click();
  await page.getByRole('heading', { name: '6e A', level: 1 }).waitFor();
  await page.getByRole('table', { name: 'Élèves de la 6e A' }).waitFor();
  await checkA11y(page, name + ' teacher: class');
  await snap(page, `${name}-t2-class`);
  await page.getByRole('link', { name: 'Donner un devoir' }).click();
  await page.getByRole('heading', { name: 'Nouveau devoir pour la 6e A', level: 1 }).waitFor();

  // Nothing filled in: the summary gets focus and points at each field.
  await page.getByRole('button', { name: 'Publier' }).click();
  const summary = page.locator('.error-summary');
  await summary.getByText('Il y a 3 erreurs').waitFor();
  assert.match(await focusedClass(page), /error-summary/, 'focus moves to the error summary');
  assert.equal(await page.getByLabel('Titre').getAttribute('aria-invalid'), 'true');
  await summary.getByRole('link', { name: 'Écrivez le titre du devoir.' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'title', 'the summary link focuses its field');
  await checkA11y(page, name + ' teacher: homework form with errors');
  await snap(page, `${name}-t3-form-errors`);

  await page.getByLabel('Titre').fill(title);
  await page.getByLabel('Matière').fill('Mathématiques');
  await page.getByLabel('Consignes (facultatif)').fill('Faire les exercices 1 à 3 de la fiche.\nRecopier les figures sur le cahier.');
  await page.getByLabel('Date', { exact: true }).fill(isoDay(7));
  await page.getByLabel('Heure', { exact: true }).fill('18:00');
  await page.locator('.uploader input[type=file]').setInputFiles({ name: 'Fiche n°1.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdfBytes()) });
  await page.locator('#attached-list').getByText('Fiche n°1.pdf').waitFor();
  await checkA11y(page, name + ' teacher: homework form filled');
  await snap(page, `${name}-t4-form`);
  await page.getByRole('button', { name: 'Publier' }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
  await page.locator('.badge-done', { hasText: 'Publié' }).waitFor();
  const id = /\/app\/homework\/([^/]+)$/.exec(new URL(page.url()).pathname)[1];
  await checkA11y(page, name + ' teacher: homework published');
  await snap(page, `${name}-t5-homework`);
  return id;
}

// The homework's list → the hand-in of `student` → grade, comment, corrected file → returned.
export async function markHandIn(page, name, title, student, comment) {
  await page.reload();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
  const row = page.getByRole('row', { name: new RegExp(student) });
  await row.getByText('Rendu', { exact: true }).waitFor();
  await page.getByText('1 à corriger').waitFor();
  await checkA11y(page, name + ' teacher: who handed in');
  await snap(page, `${name}-t6-roster`);
  await page.getByRole('link', { name: 'Ouvrir le travail de ' + student }).click();
  await page.getByRole('heading', { name: 'Travail de ' + student, level: 1 }).waitFor();
  await page.getByText('Exercice 1 : le triangle est rectangle.').waitFor();
  await checkA11y(page, name + ' teacher: a hand-in');

  const grade = page.getByLabel('Note sur 20 (facultatif)');
  await grade.fill('25');
  await page.getByRole('button', { name: 'Rendre la correction' }).click();
  await page.locator('.field-error', { hasText: 'La note doit être un nombre de 0 à 20' }).waitFor();
  assert.equal(await grade.getAttribute('aria-invalid'), 'true');
  await checkA11y(page, name + ' teacher: hand-in with a wrong grade');
  await grade.fill('16,5');
  await page.getByLabel('Commentaire').fill(comment);
  await page.locator('.uploader input[type=file]').setInputFiles({ name: 'Corrigé.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdfBytes()) });
  await page.getByRole('list', { name: 'Fichiers corrigés (facultatif)' }).getByText('Corrigé.pdf').waitFor();
  await page.getByRole('button', { name: 'Rendre la correction' }).click();
  await page.locator('#mark-done').getByText('Correction rendue à ' + student).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'mark-done', 'focus on the confirmation');
  assert.equal(await grade.getAttribute('aria-invalid'), null);
  await page.locator('.badge-back', { hasText: 'Corrigé' }).waitFor();
  await checkA11y(page, name + ' teacher: feedback returned');
  await snap(page, `${name}-t7-returned`);
}

// Class page → login cards → prepare → every QR image loads → print.
export async function printCards(page, name) {
  await page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Mes classes' }).click();
  await page.getByRole('link', { name: '6e A' }).click();
  await page.getByRole('link', { name: 'Cartes de connexion' }).click();
  await page.getByRole('heading', { name: 'Cartes de connexion — 6e A', level: 1 }).waitFor();
  await checkA11y(page, name + ' teacher: login cards');
  await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed++; }; });
  if (name === 'tablet') {
    // The phone run printed cards for 6e A: the page says so, and a lost card is redone alone.
    await page.getByText('élèves ont déjà une carte de cette classe').waitFor();
    await page.getByText('Une carte perdue ?').click();
    await page.getByRole('button', { name: 'Refaire la carte de Léa Dubois' }).click();
    await page.locator('#main').getByText('1 carte prête').waitFor();
    assert.equal(await page.locator('li.login-card').count(), 1);
    await checkA11y(page, name + ' teacher: one lost card redone');
  }
  await page.getByRole('button', { name: /^Préparer (les|de nouvelles) cartes/ }).click();
  // Wait for the whole class's cards, not the lost card's list still on screen.
  await page.locator('#main').getByText(/^[0-9]+ cartes prêtes/).waitFor();
  await page.getByRole('button', { name: 'Imprimer les cartes' }).waitFor();
  const cards = page.getByRole('list', { name: 'Cartes de la 6e A' }).getByRole('listitem');
  const count = await cards.count();
  assert.ok(count >= 3, 'one card per pupil of 6e A: ' + count);
  await page.waitForFunction(() => {
    const imgs = Array.from(document.querySelectorAll('img.card-qr'));
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });
  await page.getByRole('img', { name: 'QR code de connexion de Léa Dubois' }).waitFor();
  await cards.filter({ hasText: 'Léa Dubois' }).getByText('lea.dubois').waitFor();
  await checkA11y(page, name + ' teacher: login cards ready');
  await snap(page, `${name}-t8-cards`);
  await page.getByRole('button', { name: 'Imprimer les cartes' }).click();
  assert.equal(await page.evaluate(() => window.printed), 1, 'window.print() was called');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.top').isVisible(), false, 'no header on paper');
  assert.equal(await page.getByRole('button', { name: 'Imprimer les cartes' }).isVisible(), false);
  await snap(page, `${name}-t9-cards-print`);
  await page.emulateMedia({ media: 'screen' });
  return count;
}

// Class page → manage courses → a PNG resource uploaded into the first section.
export async function addCourseResource(page, name) {
  await page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Mes classes' }).click();
  await page.getByRole('link', { name: '6e A' }).click();
  await page.getByRole('link', { name: 'Gérer les cours' }).click();
  await page.getByRole('heading', { name: 'Cours de la 6e A', level: 1 }).waitFor();
  await checkA11y(page, name + ' teacher: manage courses');
  const first = page.locator('details.add-resource').first();
  await first.locator('summary').click();
  const png = Buffer.from(await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 320; c.height = 200;
    const g = c.getContext('2d');
    g.fillStyle = '#1f4fa3'; g.fillRect(0, 0, 320, 200);
    g.fillStyle = '#fff'; g.font = '32px sans-serif'; g.fillText('Triangle', 40, 110);
    return c.toDataURL('image/png').split(',')[1];
  }), 'base64');
  await first.locator('input[type=file]').setInputFiles({ name: `Schéma ${name}.png`, mimeType: 'image/png', buffer: png });
  await first.getByText(`Schéma ${name}.png est sur la box.`).waitFor();
  assert.equal(await first.getByLabel('Titre').inputValue(), `Schéma ${name}`);
  await checkA11y(page, name + ' teacher: resource ready to add');
  await first.getByRole('button', { name: 'Ajouter', exact: true }).click();
  await page.getByRole('heading', { name: `Schéma ${name}`, level: 4 }).waitFor();
  await checkA11y(page, name + ' teacher: resource added');
  await snap(page, `${name}-t10-courses`);
}

// Users: search, create (empty form first), import a roster with a wrong line then a good one; box status.
export async function adminTour(page, name, suffix) {
  const nav = page.getByRole('navigation', { name: 'Menu principal' });
  await checkA11y(page, name + ' admin: classes');
  await nav.getByRole('link', { name: 'Utilisateurs' }).click();
  await page.getByRole('heading', { name: 'Utilisateurs', level: 1 }).waitFor();
  await checkA11y(page, name + ' admin: users');
  await page.getByLabel('Nom ou identifiant').fill('dub');
  await page.getByRole('button', { name: 'Chercher' }).click();
  await page.getByRole('table', { name: '1 compte' }).getByText('Léa Dubois').waitFor();
  assert.match(page.url(), /\?q=dub$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'users-results');
  await snap(page, `${name}-a1-users`);

  // Create an account: the empty form first.
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Créer le compte' }) });
  await form.getByLabel('Identifiant').fill('');
  await page.getByRole('button', { name: 'Créer le compte' }).click();
  await form.locator('.error-summary').getByText('Il y a 2 erreurs').waitFor();
  await checkA11y(page, name + ' admin: new account errors');
  const display = `Sam Leroy ${suffix}`;
  await form.getByLabel('Nom affiché').fill(display);
  await form.getByLabel('Nom affiché').blur();
  assert.equal(await form.getByLabel('Identifiant').inputValue(), `sam.leroy.${suffix}`.toLowerCase(), 'login suggested from the name');
  await form.getByLabel('Classe').selectOption({ label: '6e A' });
  const password = await form.getByLabel('Mot de passe').inputValue();
  assert.match(password, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  await page.getByRole('button', { name: 'Créer le compte' }).click();
  await form.getByText(`Compte de ${display} créé`).waitFor();
  await checkA11y(page, name + ' admin: account created');

  // A roster with a wrong line: nothing imported, the line numbers shown.
  const importForm = page.locator('form', { has: page.getByRole('button', { name: 'Importer' }) });
  const bad = `login;nom;rôle;classe\nzoe.${suffix};Zoé ${suffix};élève;4e C\nMAUVAIS LOGIN;Jean Faux;élève;4e C\nhugo.${suffix};Hugo ${suffix};pirate;4e C\n`;
  await importForm.getByLabel('Fichier CSV').setInputFiles({ name: 'liste.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.getByRole('button', { name: 'Importer' }).click();
  const errs = importForm.locator('.error-summary');
  await errs.getByText('Ligne 3 :').waitFor();
  await errs.getByText('Ligne 4 : le rôle doit être « élève » ou « professeur », pas « pirate ».').waitFor();
  assert.match(await focusedClass(page), /error-summary/);
  assert.equal(await importForm.getByLabel('Fichier CSV').getAttribute('aria-invalid'), 'true');
  await checkA11y(page, name + ' admin: roster with errors');
  await snap(page, `${name}-a2-import-errors`);
  const good = `login;nom;rôle;classe\nzoe.${suffix};Zoé ${suffix};élève;4e C\nhugo.${suffix};Hugo ${suffix};élève;4e C\n`;
  await importForm.getByLabel('Fichier CSV').setInputFiles({ name: 'liste.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.locator('#import-result').getByText('Import terminé. 2 comptes créés').waitFor();
  await page.getByRole('table', { name: /Comptes créés/ }).getByText(`zoe.${suffix}`).waitFor();
  await checkA11y(page, name + ' admin: roster imported');
  await snap(page, `${name}-a3-imported`);

  await nav.getByRole('link', { name: 'État de la box' }).click();
  await page.getByRole('heading', { name: 'État de la box', level: 1 }).waitFor();
  await page.getByText('Version').waitFor();
  await page.getByText(/la box n'est pas encore inscrite auprès de la passerelle/).waitFor();
  await checkA11y(page, name + ' admin: box status');
  await snap(page, `${name}-a4-status`);

  // The class page of an administrator has the management forms.
  await nav.getByRole('link', { name: 'Mes classes' }).click();
  await page.getByRole('link', { name: '4e C' }).click();
  await page.getByRole('heading', { name: 'Gérer la classe' }).waitFor();
  await checkA11y(page, name + ' admin: class');
  await snap(page, `${name}-a5-class`);
}

// A box with no administrator: every visitor lands on the first-run page.
export async function firstRun(browser, dataDir, viewport) {
  const box = await startBox(dataDir, []);
  const context = await browser.newContext({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  const errors = [];
  try {
    const page = await context.newPage();
    watchErrors(page, errors);
    await page.goto(box.url + '/app/courses');
    await page.waitForURL(/\/app\/setup$/);
    await page.getByRole('heading', { name: 'Première mise en route de la box', level: 1 }).waitFor();
    await checkA11y(page, 'setup');
    await page.getByRole('button', { name: 'Mettre la box en route' }).click();
    await page.locator('.error-summary').getByText('Il y a 4 erreurs').waitFor();
    await checkA11y(page, 'setup with errors');
    await page.getByLabel('Code de mise en route').fill('pas-le-bon-code');
    await page.getByLabel("Nom de l'établissement").fill('Collège Jules Ferry');
    await page.getByLabel('Nom affiché').fill('M. Dupont');
    await page.getByLabel('Identifiant').fill('technicien');
    await page.getByLabel('Mot de passe', { exact: true }).fill('un-bon-mot-de-passe');
    await page.getByLabel('Mot de passe (encore une fois)').fill('un-bon-mot-de-passe');
    await page.getByRole('button', { name: 'Mettre la box en route' }).click();
    await page.locator('.field-error', { hasText: "Ce code n'est pas le bon" }).waitFor();
    await snap(page, 'setup-1-wrong-code');
    const code = readFileSync(join(dataDir, 'setup-code.txt'), 'utf8').trim();
    await page.getByLabel('Code de mise en route').fill(code);
    await page.getByRole('button', { name: 'Mettre la box en route' }).click();
    await page.getByRole('heading', { name: 'Mes classes', level: 1 }).waitFor();
    await page.getByText("Il n'y a pas encore de classe").waitFor();
    await checkA11y(page, 'setup done: admin home');
    await snap(page, 'setup-2-done');
    log('first-run setup: ok');
  } finally {
    await context.close();
    box.child.kill('SIGTERM');
  }
  assert.deepEqual(errors, [], 'JavaScript errors on the first-run page');
}

// "Élèves": find a pupil and give a new password (checked by logging in with
// it); a draft saved, edited and deleted.
export async function passwordAndDraft(page, base, name) {
  const nav = page.getByRole('navigation', { name: 'Menu principal' });
  await nav.getByRole('link', { name: 'Élèves' }).click();
  await page.getByRole('heading', { name: 'Mes élèves', level: 1 }).waitFor();
  await page.getByLabel('Nom ou identifiant').fill('ines');
  await page.getByRole('button', { name: 'Chercher' }).click();
  await page.getByRole('table', { name: '1 compte' }).waitFor();
  await page.getByRole('button', { name: 'Nouveau mot de passe pour Inès Moreau' }).click();
  const shown = page.locator('.password-result strong.password');
  await shown.waitFor();
  const password = await shown.textContent();
  const res = await fetch(base + '/api/v1/session', { method: 'POST', body: JSON.stringify({ login: 'ines.moreau', password }) });
  assert.equal(res.status, 200, 'the pupil logs in with the new password');
  await checkA11y(page, name + ' teacher: my pupils, new password');
  await snap(page, `${name}-t11-password`);

  const title = `Brouillon (${name})`;
  await nav.getByRole('link', { name: 'Mes classes' }).click();
  await page.getByRole('link', { name: '6e A' }).click();
  await page.getByRole('link', { name: 'Donner un devoir' }).click();
  await page.getByLabel('Titre').fill(title);
  assert.equal(await page.getByLabel('Matière').inputValue(), 'Mathématiques', 'the last subject is suggested');
  await page.getByLabel('Date', { exact: true }).fill(isoDay(10));
  await page.getByLabel('Fiche d\'exercices — Mathématiques').check();
  await page.locator('#attached-list').getByText('Fractions - exercices.pdf').waitFor();
  await page.getByRole('button', { name: 'Enregistrer le brouillon' }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
  await page.getByText('Brouillon : les élèves ne le voient pas').waitFor();
  await page.getByRole('link', { name: 'Modifier' }).click();
  await page.getByRole('heading', { name: 'Modifier le devoir', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('Titre').inputValue(), title);
  assert.equal(await page.getByLabel('Fiche d\'exercices — Mathématiques').isChecked(), true);
  await checkA11y(page, name + ' teacher: edit a draft');
  await page.getByLabel('Titre').fill(title + ' modifié');
  await page.getByRole('button', { name: 'Enregistrer le brouillon' }).click();
  await page.getByRole('heading', { name: title + ' modifié', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Supprimer' }).click();
  await page.getByText('Supprimer le devoir').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'delete-confirm');
  await checkA11y(page, name + ' teacher: delete confirmation');
  await page.getByRole('button', { name: 'Oui, supprimer' }).click();
  await page.getByRole('heading', { name: '6e A', level: 1 }).waitFor();
  assert.equal(await page.getByRole('link', { name: title + ' modifié' }).count(), 0, 'the draft is gone');
}
