// The password reset that teachers and administrators reach from several
// pages: one button per pupil; the new password is shown next to it (large,
// to read out or copy) and announced. The pupil's sessions end.
import { t } from '/assets/i18n.js';
import { post } from '/assets/api.js';
import { h, announce, alertNow, errorMessage } from '/assets/ui.js';

export function displayName(u) { return u.display_name || u.login; }

// The button and the place its answer appears, for user `u` ({id|user_id, login, display_name}).
export function resetPasswordControl(u) {
  const id = u.id || u.user_id;
  const result = h('p', { class: 'password-result', hidden: true });
  const button = h('button', {
    type: 'button', class: 'secondary small', text: t('pw.reset'),
    'aria-label': t('pw.reset_named', { name: displayName(u) }),
  });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const answer = await post('/api/v1/users/' + encodeURIComponent(id) + '/password', {});
      result.textContent = '';
      result.appendChild(h('span', { text: t('pw.new_is') + ' ' }));
      result.appendChild(h('strong', { class: 'password', text: answer.password }));
      result.hidden = false;
      announce(t('pw.announce', { name: displayName(u), password: answer.password.split('').join(' ') }));
    } catch (err) {
      alertNow(errorMessage(err));
      result.textContent = errorMessage(err);
      result.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'password-control' }, button, result);
}
