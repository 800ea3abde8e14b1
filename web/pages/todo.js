// "À faire": the homework of the student's classes by due date, each with its
// state in words (late, handed in, returned with the grade), then what was
// returned. Hand-ins waiting on the tablet are shown as such.
import { t, formatDateTime, formatNumber } from '/assets/i18n.js';
import { get } from '/assets/api.js';
import { h, showPage, badge, loadPage } from '/assets/ui.js';
import { session } from '/assets/router.js';
import { allDrafts } from '/assets/store.js';
import { keepForOffline } from '/assets/offline.js';

export function stateBadges(hw, queued) {
  const s = hw.my_submission || { status: 'todo', late: false };
  const out = [];
  if (s.status === 'returned') {
    out.push(badge('back', s.grade === null || s.grade === undefined
      ? t('state.returned') : t('state.returned_grade', { grade: formatNumber(s.grade) })));
  } else if (s.status === 'handed_in') {
    out.push(badge('done', t('state.handed_in')));
  } else if (queued) {
    out.push(badge('wait', t('state.waiting')));
  } else {
    out.push(badge('todo', t('state.todo')));
  }
  if (s.late && s.status !== 'returned') out.push(badge('late', t('state.late')));
  return out;
}

function item(hw, queued) {
  return h('li', { class: 'item' },
    h('p', { class: 'subject', text: hw.subject }),
    h('h3', { class: 'item-title' }, h('a', { href: '/app/homework/' + encodeURIComponent(hw.id), text: hw.title })),
    h('p', { class: 'meta', text: t('todo.due', { date: formatDateTime(hw.due_at) }) }),
    h('p', { class: 'meta' }, stateBadges(hw, queued)));
}

export async function render() {
  const list = await loadPage(async () => (await get('/api/v1/homework')).homework);
  if (!list) return;
  const drafts = await allDrafts().catch(() => []);
  const queued = new Set(drafts.filter((d) => d.queued && d.userId === session.user.id).map((d) => d.homeworkId));
  const open = list.filter((hw) => !hw.my_submission || hw.my_submission.status !== 'returned');
  const returned = list.filter((hw) => hw.my_submission && hw.my_submission.status === 'returned').reverse();
  showPage(t('todo.title'), [
    h('h1', { text: t('todo.title') }),
    h('p', { class: 'hint', text: t('todo.hello', { name: session.user.display_name || session.user.login }) }),
    h('section', { 'aria-labelledby': 'todo-open' },
      h('h2', { id: 'todo-open', text: t('todo.open') }),
      open.length ? h('ul', { class: 'list two' }, open.map((hw) => item(hw, queued.has(hw.id))))
        : h('p', { text: t('todo.none') })),
    returned.length ? h('section', { 'aria-labelledby': 'todo-returned' },
      h('h2', { id: 'todo-returned', text: t('todo.returned') }),
      h('ul', { class: 'list two' }, returned.map((hw) => item(hw, false)))) : null,
  ]);
  // Keep what is still to do for when the box is out of reach.
  keepForOffline(open);
}
