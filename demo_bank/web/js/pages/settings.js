import { h, icon, nextId } from '../dom.js';
import { t } from '../i18n.js';
import * as session from '../session.js';
import { setSpeaks, speaks } from '../voice.js';
import { page } from './ui.js';

export async function render(ctx) {
  const signedIn = Boolean(session.token());
  const group = nextId('edition');
  const options = session.EDITIONS.map((edition) => {
    const id = `${group}-${edition}`;
    return h('div', { class: 'choice' },
      h('input', { type: 'radio', name: 'edition', id, value: edition, class: 'radio',
        checked: edition === ctx.edition, 'aria-describedby': `${id}-desc` }),
      h('label', { for: id, class: 'choice-label' },
        h('span', { class: 'choice-title', lang: edition === 'english' ? 'en' : 'zh-CN' }, t(`edition.${edition}`)),
        h('span', { class: 'choice-desc', id: `${id}-desc` }, t(`edition.${edition}.desc`))));
  });

  function onSubmit(event) {
    event.preventDefault();
    const chosen = new FormData(event.target).get('edition');
    if (!chosen || chosen === ctx.edition) {
      ctx.toast(t('settings.unchanged', { edition: t(`edition.${ctx.edition}`) }));
      return;
    }
    ctx.setEdition(chosen);
    ctx.toast(t('settings.changed', { edition: t(`edition.${chosen}`) }));
    ctx.go('#/settings'); // shown again in the new edition and language
  }

  const node = page('settings', t('settings.title'),
    h('form', { class: 'card form', onsubmit: onSubmit },
      h('fieldset', { class: 'choices' },
        h('legend', { class: 'section-title' }, t('settings.edition')),
        options),
      h('button', { type: 'submit', class: 'button primary block' }, t('settings.apply'))),
    // The voice assistant (幸福生活版) speaks its answers; this turns that off (or on again).
    ctx.elderly
      ? h('div', { class: 'check-field card' },
        h('input', { type: 'checkbox', id: 'voice-speaks', class: 'checkbox', checked: speaks(),
          onchange: (event) => setSpeaks(event.target.checked) }),
        h('label', { for: 'voice-speaks' }, t('settings.voiceSpeaks')))
      : null,
    // The elderly edition keeps one decision per screen: signing out lives on its home page.
    signedIn && !ctx.elderly
      ? h('button', { type: 'button', class: 'button secondary block', onclick: () => ctx.signOut(t('login.signedOut')) },
        icon('logout'), h('span', {}, t('action.signOut')))
      : null);
  return { title: t('settings.title'), node, back: signedIn ? '#/home' : '#/login' };
}
