import { h, icon } from '../dom.js';
import { t } from '../i18n.js';
import * as session from '../session.js';
import { avatar, page, payeeLabel, payeeMeta } from './ui.js';

export function payeeButton(payee, onChoose) {
  return h('button', { type: 'button', class: 'list-button payee', onclick: () => onChoose(payee) },
    avatar(payee),
    h('span', { class: 'payee-text' },
      h('span', { class: 'payee-name' }, payeeLabel(payee)),
      h('span', { class: 'payee-meta' }, payeeMeta(payee))),
    icon('chevron', 'icon chevron'));
}

export function startTransferTo(ctx, payee) {
  session.saveDraft({ payee: { id: payee.id, name: payee.name, nickname: payee.nickname, bank: payee.bank,
    internal: payee.internal, account_masked: payee.account_masked } });
  ctx.go('#/transfer/amount');
}

export async function render(ctx) {
  const { payees } = await ctx.api('GET', '/api/bank/payees');
  const node = page('payees', t('payees.title'),
    h('p', { class: 'lead' }, t('payees.intro')),
    payees.length
      ? h('ul', { class: 'card list' }, payees.map((p) => h('li', {}, payeeButton(p, (chosen) => startTransferTo(ctx, chosen)))))
      : h('p', { class: 'card empty' }, t('payees.empty')),
    h('a', { class: 'button secondary block', href: '#/transfer/new' }, icon('plus'), h('span', {}, t('transfer.newPayee'))));
  return { title: t('payees.title'), node, back: '#/home' };
}
