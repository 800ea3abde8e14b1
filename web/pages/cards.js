// Login cards for a class: one card per pupil with name, login and a QR code
// that logs them in (POST /api/v1/classes/:id/login-cards). Issuing replaces
// the cards printed before, so the page asks first, then shows the cards and
// prints them (app.css has an A4 print stylesheet: 2 × 4 cards a page).
// Route: /app/classes/:id/cards.
import { t, tn } from '/assets/i18n.js';
import { post } from '/assets/api.js';
import { h, showPage, loadPage, announce } from '/assets/ui.js';
import { formErrors } from '/assets/forms.js';
import { findClass } from '/assets/pages/class.js';
import { displayName } from '/assets/accounts.js';

function card(c, school) {
  return h('li', { class: 'login-card' },
    h('p', { class: 'card-school', text: school }),
    h('p', { class: 'card-name', text: displayName(c.user) }),
    h('p', { class: 'card-login' }, h('span', { text: t('cards.login') + ' ' }), h('strong', { text: c.user.login })),
    h('img', { class: 'card-qr', src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(c.qr_svg),
      alt: t('cards.qr_alt', { name: displayName(c.user) }), width: 150, height: 150 }),
    h('p', { class: 'card-hint', text: t('cards.scan') }));
}

export async function render(ctx) {
  const cls = await loadPage(() => findClass(ctx.params.id));
  if (!cls) return;
  const errors = formErrors();
  const out = h('div', { class: 'cards-out' });
  const issue = h('button', { type: 'button', class: 'primary', text: t('cards.issue') });
  issue.addEventListener('click', async () => {
    issue.disabled = true;
    errors.clear();
    try {
      const answer = await post('/api/v1/classes/' + encodeURIComponent(cls.id) + '/login-cards', {});
      out.textContent = '';
      if (!answer.cards.length) {
        out.appendChild(h('p', { text: t('class.no_students') }));
        return;
      }
      const print = h('button', { type: 'button', class: 'primary', text: t('cards.print') });
      print.addEventListener('click', () => window.print());
      const status = h('p', { class: 'ok-box', tabindex: '-1', text: tn('cards.ready', answer.cards.length) });
      out.appendChild(h('div', { class: 'no-print' }, status, h('div', { class: 'actions' }, print)));
      out.appendChild(h('ul', { class: 'cards', 'aria-label': t('cards.list', { cls: cls.name }) },
        answer.cards.map((c) => card(c, cls.name))));
      announce(tn('cards.ready', answer.cards.length));
      status.focus();
    } catch (err) {
      errors.show(err);
    } finally {
      issue.disabled = false;
    }
  });
  const heading = t('cards.title', { cls: cls.name });
  showPage(heading, [
    h('div', { class: 'no-print' },
      h('p', { class: 'subject' }, h('a', { href: '/app/classes/' + encodeURIComponent(cls.id), text: cls.name })),
      h('h1', { text: heading }),
      h('p', { text: t('cards.intro') }),
      h('p', { class: 'note', text: t('cards.warning') }),
      errors.node,
      h('div', { class: 'actions' }, issue)),
    out,
  ]);
}
