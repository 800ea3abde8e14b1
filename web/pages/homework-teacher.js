// A homework for its teachers: what was asked, whether it is published, and
// for each pupil of the class whether they handed it in, late or not, and
// whether it was returned; each hand-in opens the marking page. Also: edit,
// publish a draft, delete (with a confirmation in the page).
import { t, tn, formatDateTime, formatShortDateTime, formatNumber } from '/assets/i18n.js';
import { get, patch, del } from '/assets/api.js';
import { h, showPage, loadPage, announce, badge, alertNow, errorMessage } from '/assets/ui.js';
import { navigate } from '/assets/router.js';
import { renderFiles } from '/assets/attachments.js';
import { displayName } from '/assets/accounts.js';
import { tableBox } from '/assets/forms.js';

// Badges for one row of GET /homework/:id/submissions.
export function rowBadges(row) {
  const out = [];
  if (row.status === 'returned') out.push(badge('back', t('state.returned')));
  else if (row.status === 'handed_in') out.push(badge('done', t('state.handed_in')));
  else out.push(badge('todo', t('hwt.not_handed_in')));
  if (row.status === 'late' || (row.submission && row.submission.late)) out.push(badge('late', t('state.late')));
  return out;
}

export function handInUrl(hwId, submissionId) {
  return '/app/homework/' + encodeURIComponent(hwId) + '/hand-ins/' + encodeURIComponent(submissionId);
}

function lastVersion(s) { return s && s.versions && s.versions.length ? s.versions[0] : null; }

function rosterTable(hw, rows) {
  return tableBox(t('hwt.roster_caption', { title: hw.title }),
    [t('class.col_name'), t('class.col_state'), t('hwt.col_when'), t('hwt.col_grade')],
    rows.map((row) => {
      const s = row.submission;
      const v = lastVersion(s);
      const f = s && s.feedback;
      return h('tr', null,
        h('th', { scope: 'row' }, s
          ? h('a', { href: handInUrl(hw.id, s.id), text: displayName(row.student), 'aria-label': t('hwt.open_named', { name: displayName(row.student) }) })
          : displayName(row.student)),
        h('td', { class: 'badges-cell' }, rowBadges(row)),
        h('td', { text: v ? formatShortDateTime(v.submitted_at) : '—' }),
        h('td', { text: f && f.grade !== null && f.grade !== undefined ? formatNumber(f.grade) + '/20' : '—' }));
    }));
}

export async function render(ctx) {
  const data = await loadPage(async () => {
    const hw = await get('/api/v1/homework/' + encodeURIComponent(ctx.params.id));
    const rows = (await get('/api/v1/homework/' + encodeURIComponent(ctx.params.id) + '/submissions')).submissions;
    return { hw: hw, rows: rows };
  });
  if (!data) return;
  const hw = data.hw;
  const rows = data.rows;
  const count = (pred) => rows.filter(pred).length;
  const handedIn = count((r) => r.status === 'handed_in');
  const returned = count((r) => r.status === 'returned');
  const late = count((r) => r.status === 'late' || (r.submission && r.submission.late));
  const missing = count((r) => r.status === 'todo' || r.status === 'late');
  const firstToMark = rows.filter((r) => r.status === 'handed_in')[0];

  const confirmBox = h('div', { class: 'note confirm', hidden: true, tabindex: '-1', id: 'delete-confirm' });
  const deleteButton = h('button', { type: 'button', class: 'danger', text: t('hwt.delete') });
  deleteButton.addEventListener('click', () => {
    confirmBox.textContent = '';
    const yes = h('button', { type: 'button', class: 'danger', text: t('hwt.delete_yes') });
    const no = h('button', { type: 'button', class: 'secondary', text: t('common.cancel') });
    yes.addEventListener('click', async () => {
      try {
        await del('/api/v1/homework/' + encodeURIComponent(hw.id));
        announce(t('hwt.deleted', { title: hw.title }));
        navigate('/app/classes/' + encodeURIComponent(hw.class_id), { replace: true });
      } catch (err) { alertNow(errorMessage(err)); }
    });
    no.addEventListener('click', () => { confirmBox.hidden = true; deleteButton.focus(); });
    confirmBox.appendChild(h('p', { text: t('hwt.delete_question', { title: hw.title }) }));
    confirmBox.appendChild(h('div', { class: 'actions' }, yes, no));
    confirmBox.hidden = false;
    confirmBox.focus();
  });
  let publishButton = null;
  if (!hw.published) {
    publishButton = h('button', { type: 'button', class: 'primary', text: t('hwt.publish_now') });
    publishButton.addEventListener('click', async () => {
      try {
        await patch('/api/v1/homework/' + encodeURIComponent(hw.id), { published: true });
        announce(t('hwe.published', { title: hw.title }));
        navigate(location.pathname, { replace: true });
      } catch (err) { alertNow(errorMessage(err)); }
    });
  }

  showPage(hw.title, [
    h('p', { class: 'subject' }, hw.subject + ' · ', h('a', { href: '/app/classes/' + encodeURIComponent(hw.class_id), text: hw.class_name })),
    h('h1', { text: hw.title }),
    h('p', { class: 'meta', text: t('hw.due', { date: formatDateTime(hw.due_at) }) }),
    h('p', { class: 'meta badges' }, hw.published ? badge('done', t('hwt.published')) : badge('draft', t('hwt.draft_long'))),
    h('div', { class: 'actions page-actions' },
      publishButton,
      h('a', { class: 'button secondary', href: '/app/homework/' + encodeURIComponent(hw.id) + '/edit', text: t('hwt.edit') }),
      deleteButton),
    confirmBox,
    h('section', { 'aria-labelledby': 'hwt-roster' },
      h('h2', { id: 'hwt-roster', text: t('hwt.roster') }),
      h('ul', { class: 'counts' },
        h('li', { text: tn('hwt.count_handed_in', handedIn) }),
        h('li', { text: tn('hwt.count_returned', returned) }),
        h('li', { text: tn('hwt.count_missing', missing) }),
        h('li', { text: tn('hwt.count_late', late) })),
      firstToMark ? h('p', null, h('a', { class: 'button primary', href: handInUrl(hw.id, firstToMark.submission.id), text: t('hwt.start_marking') })) : null,
      rows.length ? rosterTable(hw, rows) : h('p', { text: t('class.no_students') })),
    hw.instructions ? h('section', { 'aria-labelledby': 'hw-instructions', class: 'card' },
      h('h2', { id: 'hw-instructions', text: t('hw.instructions') }),
      h('p', { class: 'instructions', text: hw.instructions })) : null,
    hw.attachments && hw.attachments.length ? h('section', { 'aria-labelledby': 'hw-files' },
      h('h2', { id: 'hw-files', text: t('hw.attachments') }),
      renderFiles(hw.attachments)) : null,
  ]);
}
