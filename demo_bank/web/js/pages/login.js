import { h, icon } from '../dom.js';
import { t } from '../i18n.js';
import { alertBox, busy, field, page } from './ui.js';

export async function render(ctx) {
  const username = field({ label: t('login.username'), name: 'username', autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false', required: true });
  const password = field({ label: t('login.password'), name: 'password', type: 'password',
    autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'button primary block' }, t('login.submit'));

  async function onSubmit(event) {
    event.preventDefault();
    status.replaceChildren();
    username.setError('');
    password.setError('');
    const user = username.input.value.trim();
    const secret = password.input.value;
    if (!user) {
      username.setError(t('login.usernameRequired'));
      username.input.focus();
      return;
    }
    if (!secret) {
      password.setError(t('login.passwordRequired'));
      password.input.focus();
      return;
    }
    busy(submit, true);
    try {
      const answer = await ctx.api('POST', '/api/auth/login', { username: user, password: secret });
      if (answer.role !== 'customer') {
        status.replaceChildren(alertBox('error', null, h('p', {}, t('login.customersOnly'))));
        return;
      }
      ctx.signedIn(answer);
      ctx.go('#/home');
    } catch (error) {
      const text = error.code === 'bad_credentials' ? t('login.badCredentials')
        : error.code === 'too_many_attempts' ? t('login.tooMany') : error.message;
      status.replaceChildren(alertBox('error', null, h('p', {}, text)));
      password.input.value = '';
      password.input.focus();
    } finally {
      busy(submit, false);
    }
  }

  const node = page('login', t('login.title'),
    h('div', { class: 'login-hero' },
      h('span', { class: 'hero-mark', 'aria-hidden': 'true' }, icon('shield', 'hero-icon')),
      h('p', { class: 'lead' }, t('login.welcome'))),
    h('form', { class: 'card form', novalidate: true, onsubmit: onSubmit },
      username.wrap, password.wrap, status, submit),
    h('section', { class: 'card demo-note', 'aria-labelledby': 'demo-title' },
      h('h2', { id: 'demo-title', class: 'section-title' }, t('login.demoTitle')),
      h('p', {}, t('login.demoAccounts')),
      h('p', {}, t('login.demoPasswords'))),
    h('a', { class: 'button secondary block', href: '#/settings' }, icon('edition'), h('span', {}, t('login.edition'))));
  return { title: t('login.title'), node };
}
