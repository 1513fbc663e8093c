import { h } from '../dom.js';
import { t } from '../i18n.js';
import { formatFen } from '../money.js';
import { avatar, formatTime, page } from './ui.js';

export function transactionItem(tx, ctx) {
  const incoming = tx.direction === 'in';
  const kind = t(`records.kind.${tx.kind}`);
  const title = tx.kind === 'transfer'
    ? t(incoming ? 'records.from' : 'records.to', { name: tx.counterparty.name })
    : tx.counterparty.name;
  return h('li', { class: 'tx' },
    avatar({ name: tx.counterparty.name }),
    h('div', { class: 'tx-main' },
      h('p', { class: 'tx-title' }, title),
      h('p', { class: 'tx-meta' }, [kind, tx.purpose].filter(Boolean).join(' · ')),
      h('p', { class: 'tx-meta' }, formatTime(tx.at, ctx.language))),
    h('div', { class: 'tx-side' },
      h('p', { class: `tx-amount ${incoming ? 'in' : 'out'}` },
        h('span', { class: 'visually-hidden' }, t(incoming ? 'records.income' : 'records.expense')),
        formatFen(incoming ? tx.amount : -tx.amount, { sign: true })),
      h('p', { class: 'tx-meta' }, t('records.balanceAfter', { balance: formatFen(tx.balance_after) }))));
}

export async function render(ctx) {
  const { transactions } = await ctx.api('GET', '/api/bank/transactions?limit=50');
  const node = page('records', t('records.title'),
    transactions.length
      ? h('ul', { class: 'card tx-list' }, transactions.map((tx) => transactionItem(tx, ctx)))
      : h('p', { class: 'card empty' }, t('records.empty')));
  return { title: t('records.title'), node, back: '#/home' };
}
