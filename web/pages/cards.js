// Login cards for a class: one card per pupil with name, login and a QR code
// that logs them in (POST /api/v1/classes/:id/login-cards). Issuing replaces
// the cards printed before: the page says who holds one (GET …/login-cards)
// before, and a lost card is replaced alone. The cards print on A4
// (app.css: 2 × 4 cards a page).
// Route: /app/classes/:id/cards.
import { t, tn, formatDate } from '/assets/i18n.js';
import { get, post } from '/assets/api.js';
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
  const data = await loadPage(async () => {
    const cls = await findClass(ctx.params.id);
    const held = (await get('/api/v1/classes/' + encodeURIComponent(cls.id) + '/login-cards')).cards;
    return { cls: cls, held: held };
  });
  if (!data) return;
  const cls = data.cls;
  const held = data.held.filter((c) => c.issued_at);
  const errors = formErrors();
  const out = h('div', { class: 'cards-out' });
  const issue = h('button', { type: 'button', class: 'primary', text: held.length ? t('cards.issue_again') : t('cards.issue') });
  // body: {} for the whole class, {user_ids: […]} for a lost card.
  async function issueCards(body, button) {
    button.disabled = true;
    errors.clear();
    try {
      const answer = await post('/api/v1/classes/' + encodeURIComponent(cls.id) + '/login-cards', body);
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
      button.disabled = false;
    }
  }
  issue.addEventListener('click', () => issueCards({}, issue));
  const lost = held.length ? h('details', { class: 'no-print' },
    h('summary', { text: t('cards.lost') }),
    h('p', { class: 'hint', text: t('cards.lost_hint') }),
    h('ul', { class: 'file-list' }, held.map((c) => {
      const b = h('button', { type: 'button', class: 'secondary small', text: t('cards.redo'),
        'aria-label': t('cards.redo_named', { name: displayName(c.user) }) });
      b.addEventListener('click', () => issueCards({ user_ids: [c.user.user_id] }, b));
      return h('li', null, h('span', { class: 'name', text: t('cards.held_since', { name: displayName(c.user), date: formatDate(c.issued_at) }) }), b);
    }))) : null;
  const heading = t('cards.title', { cls: cls.name });
  showPage(heading, [
    h('div', { class: 'no-print' },
      h('p', { class: 'subject' }, h('a', { href: '/app/classes/' + encodeURIComponent(cls.id), text: cls.name })),
      h('h1', { text: heading }),
      h('p', { text: t('cards.intro') }),
      held.length ? h('p', { class: 'note', text: tn('cards.held', held.length) + ' ' + t('cards.warning') })
        : h('p', { class: 'hint', text: t('cards.none_yet') }),
      errors.node,
      h('div', { class: 'actions' }, issue),
      lost),
    out,
  ]);
}
