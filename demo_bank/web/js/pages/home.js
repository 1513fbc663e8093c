import { h, icon } from '../dom.js';
import { t } from '../i18n.js';
import { formatFen } from '../money.js';
import { page } from './ui.js';
import { transactionItem } from './records.js';

const HIDE = 'assist-bank.hide-balance';

function greeting() {
  const hour = Number(new Intl.DateTimeFormat('en-GB', { hour: 'numeric', hour12: false, timeZone: 'Asia/Shanghai' })
    .format(new Date()));
  if (hour < 5) return 'home.greetingNight';
  if (hour < 12) return 'home.greetingMorning';
  if (hour < 18) return 'home.greetingAfternoon';
  return 'home.greetingEvening';
}

export async function render(ctx) {
  const [overview, history] = await Promise.all([
    ctx.api('GET', '/api/bank/account'),
    ctx.elderly ? Promise.resolve({ transactions: [] }) : ctx.api('GET', '/api/bank/transactions?limit=3'),
  ]);
  const account = overview.account;
  let hidden = sessionStorage.getItem(HIDE) === '1';
  const amount = h('p', { class: 'balance-amount' });
  const toggle = h('button', { type: 'button', class: 'eye-button', 'aria-pressed': 'false' });
  const paint = () => {
    amount.textContent = hidden ? t('home.balanceHidden') : formatFen(account.balance);
    toggle.setAttribute('aria-pressed', String(hidden));
    toggle.replaceChildren(icon(hidden ? 'eyeOff' : 'eye'), h('span', { class: 'eye-label' }, t('home.hideBalance')));
  };
  toggle.addEventListener('click', () => {
    hidden = !hidden;
    sessionStorage.setItem(HIDE, hidden ? '1' : '0');
    paint();
  });
  paint();

  const card = h('section', { class: 'account-card', 'aria-labelledby': 'balance-label' },
    h('div', { class: 'account-card-top' },
      h('h2', { class: 'balance-label', id: 'balance-label' }, t('home.balance')),
      ctx.elderly ? null : toggle),
    amount,
    h('p', { class: 'account-number' },
      h('span', {}, t('home.accountNumber')), ' ', h('span', {}, account.masked)),
    h('p', { class: 'account-bank' }, account.bank[ctx.language] || account.bank.zh));

  const actions = [
    { hash: '#/transfer', icon: 'transfer', label: t('home.actionTransfer'), primary: true },
    { hash: '#/records', icon: 'records', label: t('home.actionRecords') },
    { hash: '#/payees', icon: 'payees', label: t('home.actionPayees') },
    { hash: '#/limits', icon: 'shield', label: t('home.actionLimits') },
  ];
  if (ctx.elderly) actions.push({ hash: '#/settings', icon: 'settings', label: t('home.actionSettings') });
  const grid = h('nav', { class: 'actions', 'aria-label': t('home.actionsLabel') },
    h('ul', { class: 'actions-list' }, actions.map((a) => h('li', {},
      h('a', { class: `action${a.primary ? ' action-primary' : ''}`, href: a.hash },
        h('span', { class: 'action-icon' }, icon(a.icon)), h('span', { class: 'action-label' }, a.label))))));

  let recent = null;
  if (!ctx.elderly) {
    recent = h('section', { class: 'card recent', 'aria-labelledby': 'recent-title' },
      h('div', { class: 'section-head' },
        h('h2', { class: 'section-title', id: 'recent-title' }, t('home.recent')),
        h('a', { class: 'text-link', href: '#/records' }, t('home.seeAll'))),
      history.transactions.length
        ? h('ul', { class: 'tx-list' }, history.transactions.map((tx) => transactionItem(tx, ctx)))
        : h('p', { class: 'empty' }, t('records.empty')));
  }

  const limits = overview.limits;
  const summary = ctx.elderly ? null : h('p', { class: 'limit-summary' },
    t('home.limitSummary', { per: formatFen(limits.per_transaction), left: formatFen(limits.remaining_today) }));

  const logout = ctx.elderly
    ? h('button', { type: 'button', class: 'button secondary block', onclick: () => ctx.signOut(t('login.signedOut')) },
      icon('logout'), h('span', {}, t('action.signOut')))
    : null;
  const name = overview.customer.display_name;
  const node = page('home', t(greeting(), { name }), card, grid, summary, recent, logout);
  node.querySelector('h1').classList.add('greeting');
  return { title: t('home.title'), node };
}
