// The box's state for the technician: version, how long it has run, disk use,
// accounts connected in the last minutes, the synchronisation with the ENT's
// gateway and a "sync now" button (GET /api/v1/admin/status,
// POST /api/v1/admin/sync). Route: /app/admin/status.
import { t, tn, formatDateTime, formatNumber, formatSize } from '/assets/i18n.js';
import { get, post } from '/assets/api.js';
import { h, showPage, loadPage, announce, alertNow, errorMessage } from '/assets/ui.js';

// 93784 → "1 j 2 h 3 min"
function duration(seconds) {
  const d = Math.floor(seconds / 86400);
  const hr = Math.floor((seconds % 86400) / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const parts = [];
  if (d) parts.push(t('status.days', { n: d }));
  if (d || hr) parts.push(t('status.hours', { n: hr }));
  parts.push(t('status.minutes', { n: min }));
  return parts.join(' ');
}

function row(label, value, extra) {
  return [h('dt', { text: label }), h('dd', null, value, extra || null)];
}

function diskBlock(disk) {
  if (!disk || disk.total_bytes === null || disk.free_bytes === null) return t('status.unknown');
  const used = disk.total_bytes - disk.free_bytes;
  const pct = disk.total_bytes ? Math.round((used / disk.total_bytes) * 100) : 0;
  const low = disk.free_bytes < disk.total_bytes * 0.1;
  const bar = h('span', { class: 'usage' + (low ? ' low' : ''), 'aria-hidden': 'true' }, h('span', { class: 'usage-fill' }));
  bar.firstChild.style.width = pct + '%';
  return [
    h('span', { text: t('status.disk_line', { free: formatSize(disk.free_bytes), total: formatSize(disk.total_bytes), pct: formatNumber(pct) }) }),
    bar,
    disk.data_bytes === null || disk.data_bytes === undefined ? null
      : h('span', { class: 'meta block', text: t('status.data', { size: formatSize(disk.data_bytes) }) }),
    low ? h('span', { class: 'badge badge-late block-badge', text: t('status.disk_low') }) : null,
  ];
}

// The sync rows: null before enrolment; else last round, what waits, the
// last error and the next planned round.
function syncRows(sync) {
  if (!sync) return row(t('status.last_sync'), t('status.not_enrolled'));
  let next = null;
  if (sync.running) next = t('status.sync_running');
  else if (sync.next_attempt) next = formatDateTime(sync.next_attempt);
  return [
    row(t('status.last_sync'), sync.last_sync ? formatDateTime(sync.last_sync) : t('status.never_synced')),
    row(t('status.pending'), tn('status.changes', sync.pending || 0)),
    sync.last_error
      ? row(t('status.last_error'), h('span', { class: 'badge badge-late', text: tn('status.sync_failed', sync.failures || 1) }),
        h('span', { class: 'meta block', text: sync.last_error }))
      : null,
    next ? row(t('status.next_sync'), next) : null,
  ];
}

export async function render(ctx) {
  const s = await loadPage(() => get('/api/v1/admin/status'));
  if (!s) return;
  const refresh = h('button', { type: 'button', class: 'secondary', text: t('status.refresh') });
  refresh.addEventListener('click', () => render(ctx).then(() => {
    announce(t('status.refreshed'));
    const b = document.getElementById('status-refresh');
    if (b) b.focus();
  }));
  refresh.id = 'status-refresh';
  let syncNow = null;
  if (s.sync) {
    syncNow = h('button', { type: 'button', class: 'primary', id: 'status-sync', text: t('status.sync_now') });
    syncNow.addEventListener('click', async () => {
      syncNow.disabled = true;
      try {
        await post('/api/v1/admin/sync');
        await render(ctx);
        announce(t('status.sync_started'));
        const b = document.getElementById('status-sync');
        if (b) b.focus();
      } catch (err) {
        syncNow.disabled = false;
        alertNow(errorMessage(err));
      }
    });
  }
  showPage(t('status.title'), [
    h('h1', { text: t('status.title') }),
    s.school_name ? h('p', { class: 'subject', text: s.school_name }) : null,
    h('dl', { class: 'card facts' },
      row(t('status.version'), s.version),
      row(t('status.uptime'), duration(s.uptime_s || 0)),
      row(t('status.time'), formatDateTime(s.time)),
      row(t('status.disk'), diskBlock(s.disk)),
      row(t('status.connected'), tn('status.users', s.connected_users || 0),
        h('span', { class: 'meta block', text: t('status.window', { n: Math.round((s.connected_window_s || 300) / 60) }) })),
      syncRows(s.sync)),
    h('div', { class: 'actions' }, syncNow, refresh),
  ]);
}
