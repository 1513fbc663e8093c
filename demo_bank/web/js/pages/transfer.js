// The transfer flow: payee → amount (→ purpose) → confirm → transaction password → result.
// The draft lives in sessionStorage so a reload keeps the customer's place (and the same
// idempotency key while the outcome of a submit is unknown).
import { h, icon } from '../dom.js';
import { t } from '../i18n.js';
import { fenToInput, formatFen, parseYuan } from '../money.js';
import * as sdk from '../sdk.js';
import * as session from '../session.js';
import { payeeButton, startTransferTo } from './payees.js';
import { alertBox, avatar, bankOf, busy, details, field, formatTime, page, payeeLabel, payeeMeta } from './ui.js';

const SCAM_PAUSE_MS = 5000; // the customer stops and reads before they can go on
const PURPOSES = ['living', 'repay', 'shopping', 'rent', 'gift', 'other'];

function maskAccount(number) {
  return `${number.slice(0, 4)} **** **** ${number.slice(-4)}`;
}

function payeeCard(payee) {
  return h('div', { class: 'card payee-card' },
    avatar(payee),
    h('div', { class: 'payee-text' },
      h('p', { class: 'payee-name' }, payeeLabel(payee)),
      h('p', { class: 'payee-meta' }, payeeMeta(payee))));
}

function payeeForApi(payee) {
  return payee.id ? { payee_id: payee.id } : { payee: { name: payee.name, account_number: payee.account_number } };
}

function redirect(ctx, hash) {
  ctx.replace(hash);
  return null;
}

// ------------------------------------------------------------------ 1. who
export async function choosePayee(ctx) {
  const { payees } = await ctx.api('GET', '/api/bank/payees');
  const node = page('transfer', t('transfer.title'),
    h('section', { class: 'section', 'aria-labelledby': 'saved-payees' },
      h('h2', { class: 'section-title', id: 'saved-payees' }, t('transfer.savedPayees')),
      payees.length
        ? h('ul', { class: 'card list' }, payees.map((p) => h('li', {}, payeeButton(p, (chosen) => startTransferTo(ctx, chosen)))))
        : h('p', { class: 'card empty' }, t('payees.empty'))),
    h('a', { class: 'button secondary block', href: '#/transfer/new' }, icon('plus'), h('span', {}, t('transfer.newPayee'))));
  return { title: t('transfer.title'), node, back: '#/home' };
}

export async function newPayee(ctx) {
  const draft = session.draft();
  const known = draft.payee && !draft.payee.id ? draft.payee : {};
  // The payee's name is what an agent helps with; the account number stays on the phone
  // (private by default, and a numeric field labelled 账号 is secret: docs/masking.md).
  const name = field({ label: t('newPayee.name'), autocomplete: 'off', maxlength: '40', value: known.name || '',
    'data-assist-unmask': true });
  const account = field({ label: t('newPayee.account'), hint: t('newPayee.accountHint'), inputmode: 'numeric',
    autocomplete: 'off', maxlength: '23', value: known.account_number || '' });
  const next = h('button', { type: 'submit', class: 'button primary block' }, t('action.next'));

  function onSubmit(event) {
    event.preventDefault();
    name.setError('');
    account.setError('');
    const holder = name.input.value.trim();
    const number = account.input.value.replace(/[\s-]/g, '');
    if (!holder || holder.length > 40) {
      name.setError(t('newPayee.nameRequired'));
      name.input.focus();
      return;
    }
    if (!/^\d{12,19}$/.test(number)) {
      account.setError(t('newPayee.accountInvalid'));
      account.input.focus();
      return;
    }
    session.saveDraft({ payee: { name: holder, account_number: number, account_masked: maskAccount(number), bank: '' } });
    ctx.go('#/transfer/amount');
  }

  const node = page('transfer-new', t('newPayee.title'),
    h('p', { class: 'lead' }, t('newPayee.intro')),
    h('form', { class: 'card form', novalidate: true, onsubmit: onSubmit }, name.wrap, account.wrap, next));
  return { title: t('newPayee.title'), node, back: '#/transfer' };
}

// ------------------------------------------------------------------ 2. how much, what for
export async function amount(ctx) {
  const draft = session.draft();
  if (!draft.payee) return redirect(ctx, '#/transfer');
  const overview = await ctx.api('GET', '/api/bank/account');
  const { balance } = overview.account;
  const limits = overview.limits;
  const amountField = field({
    label: t('amount.label'), prefix: '¥', inputmode: 'decimal', autocomplete: 'transaction-amount',
    'data-assist-unmask': true, // the agent sees the amount to help with it
    hint: t('amount.hint', { balance: formatFen(balance), limit: formatFen(limits.per_transaction) }),
    value: draft.amount ? fenToInput(draft.amount) : '',
  });
  let purposeSelect = null;
  let purposeWrap = null;
  if (!ctx.elderly) {
    purposeSelect = h('select', { id: 'purpose', class: 'input select', 'data-assist-unmask': true },
      PURPOSES.map((key) => h('option', { value: key, selected: draft.purposeKey === key }, t(`purpose.${key}`))));
    purposeWrap = h('div', { class: 'field' }, h('label', { for: 'purpose', class: 'label' }, t('purpose.label')), purposeSelect);
  }
  const next = h('button', { type: 'submit', class: 'button primary block' }, t('action.next'));

  function onSubmit(event) {
    event.preventDefault();
    amountField.setError('');
    const fen = parseYuan(amountField.input.value);
    let problem = null;
    if (fen === null || fen <= 0) problem = t('amount.invalid');
    else if (fen > balance) problem = t('amount.overBalance', { balance: formatFen(balance) });
    else if (fen > limits.per_transaction) problem = t('amount.overLimit', { limit: formatFen(limits.per_transaction) });
    if (problem) {
      amountField.setError(problem);
      amountField.input.focus();
      return;
    }
    const changes = { amount: fen };
    if (purposeSelect) Object.assign(changes, { purposeKey: purposeSelect.value, purpose: t(`purpose.${purposeSelect.value}`) });
    const before = session.draft();
    const changed = before.amount !== fen || (purposeSelect && before.purposeKey !== purposeSelect.value);
    // Different details make a different transfer: it gets a new idempotency key on the confirm page.
    if (changed) Object.assign(changes, { key: null, pending: false, acknowledged: false });
    session.updateDraft(changes);
    ctx.go(ctx.elderly ? '#/transfer/purpose' : '#/transfer/confirm');
  }

  const node = page('transfer-amount', t('amount.title'),
    h('p', { class: 'step-label' }, t('transfer.to')),
    payeeCard(draft.payee),
    h('form', { class: 'card form', novalidate: true, onsubmit: onSubmit }, amountField.wrap, purposeWrap, next));
  return { title: t('amount.title'), node, back: draft.payee.id ? '#/transfer' : '#/transfer/new' };
}

export async function purpose(ctx) {
  const draft = session.draft();
  if (!draft.payee) return redirect(ctx, '#/transfer');
  if (!draft.amount) return redirect(ctx, '#/transfer/amount');
  const choose = (key) => {
    const before = session.draft();
    const changes = { purposeKey: key, purpose: t(`purpose.${key}`) };
    if (before.purposeKey !== key) Object.assign(changes, { key: null, pending: false, acknowledged: false });
    session.updateDraft(changes);
    ctx.go('#/transfer/confirm');
  };
  const node = page('transfer-purpose', t('purpose.title'),
    h('p', { class: 'lead' }, t('purpose.intro', { amount: formatFen(draft.amount), name: payeeLabel(draft.payee) })),
    h('ul', { class: 'option-list' }, PURPOSES.map((key) => h('li', {},
      h('button', { type: 'button', class: `button option${draft.purposeKey === key ? ' selected' : ''}`,
        'aria-pressed': String(draft.purposeKey === key), onclick: () => choose(key) }, t(`purpose.${key}`))))));
  return { title: t('purpose.title'), node, back: '#/transfer/amount' };
}

// ------------------------------------------------------------------ 3. confirm
export async function confirm(ctx) {
  let draft = session.draft();
  if (!draft.payee) return redirect(ctx, '#/transfer');
  if (!draft.amount) return redirect(ctx, '#/transfer/amount');
  if (!draft.purpose && ctx.elderly) return redirect(ctx, '#/transfer/purpose');
  // A fresh idempotency key each time the confirm page opens — unless a submit with the current
  // key may have gone through (no answer yet): then the same key, so a retry cannot pay twice.
  if (!(draft.pending && draft.key)) draft = session.updateDraft({ key: session.newKey(), pending: false });

  const quote = await ctx.api('POST', '/api/bank/transfers/quote',
    { ...payeeForApi(draft.payee), amount: draft.amount, purpose: draft.purpose || '' });
  const payee = { ...draft.payee, ...quote.payee, id: draft.payee.id };
  const limits = quote.limits;

  const limitCheck = quote.problem
    ? h('span', { class: 'check bad' }, icon('warning', 'icon icon-inline'), h('span', {}, t('confirm.limitBad')))
    : h('span', { class: 'check good' }, icon('check', 'icon icon-inline'), h('span', {}, t('confirm.limitOk')));

  const summary = h('section', { class: 'card confirm-card', 'aria-labelledby': 'confirm-amount-label' },
    h('p', { class: 'confirm-amount-label', id: 'confirm-amount-label' }, t('confirm.amount')),
    h('p', { class: 'confirm-amount' }, formatFen(quote.amount)),
    details([
      [t('confirm.payee'), payeeLabel(payee)],
      [t('confirm.bank'), bankOf(payee)],
      [t('confirm.account'), payee.account_masked],
      [t('confirm.purpose'), draft.purpose || t('purpose.none')],
      [t('confirm.fee'), quote.fee ? formatFen(quote.fee) : t('confirm.feeFree')],
      [t('confirm.total'), formatFen(quote.total)],
      [t('confirm.balanceAfter'), formatFen(quote.balance_after)],
      [t('confirm.limitCheck'), limitCheck],
    ]),
    h('p', { class: 'limit-note' },
      t('confirm.limitNote', { per: formatFen(limits.per_transaction), left: formatFen(limits.remaining_today) })));

  const parts = [];
  let ack = null;
  let save = null;
  let scamAck = null;
  if (quote.problem) {
    parts.push(alertBox('error', t('confirm.refusedTitle'), h('p', {}, quote.problem.message)),
      h('a', { class: 'button primary block', href: '#/transfer/amount' }, t('confirm.changeAmount')));
  } else {
    if (quote.unusual) {
      ack = h('input', { type: 'checkbox', id: 'risk-ack', class: 'checkbox', checked: draft.acknowledged || false,
        'aria-describedby': 'risk-text' });
      parts.push(h('section', { class: 'alert alert-warning risk', 'aria-labelledby': 'risk-title' },
        icon('warning', 'icon alert-icon'),
        h('div', { class: 'alert-body' },
          h('h2', { class: 'alert-title', id: 'risk-title' }, t('confirm.riskTitle')),
          h('p', { id: 'risk-text' }, t('confirm.riskText', { amount: formatFen(quote.amount) })),
          h('p', {}, t('confirm.riskScam')),
          h('div', { class: 'check-field' }, ack, h('label', { for: 'risk-ack' }, t('confirm.riskAck'))),
          h('p', { class: 'field-error', id: 'risk-error', hidden: true }))));
    }
    if (quote.payee.new && sdk.inSession()) {
      // Money to a new payee while someone is "helping": the classic scam. Say it plainly and
      // make the customer stop and acknowledge it; the agent learns only that this step came.
      scamAck = h('input', { type: 'checkbox', id: 'scam-ack', class: 'checkbox', disabled: true,
        'aria-describedby': 'scam-text' });
      const wait = h('p', { class: 'scam-wait', 'aria-live': 'polite' }, t('confirm.scamWait'));
      parts.push(h('section', { class: 'alert alert-error scam', 'aria-labelledby': 'scam-title', 'data-scam-warning': true },
        icon('warning', 'icon alert-icon'),
        h('div', { class: 'alert-body' },
          h('h2', { class: 'alert-title', id: 'scam-title' }, t('confirm.scamTitle')),
          h('p', { id: 'scam-text' }, t('confirm.scamText')),
          wait,
          h('div', { class: 'check-field' }, scamAck, h('label', { for: 'scam-ack' }, t('confirm.scamAck'))),
          h('p', { class: 'field-error', id: 'scam-error', hidden: true }))));
      setTimeout(() => { scamAck.disabled = false; wait.textContent = t('confirm.scamReady'); }, SCAM_PAUSE_MS);
      sdk.noteStep('scam_warning');
    }
    if (quote.payee.new && !ctx.elderly) {
      save = h('input', { type: 'checkbox', id: 'save-payee', class: 'checkbox', checked: draft.savePayee || false });
      parts.push(h('div', { class: 'check-field card' }, save, h('label', { for: 'save-payee' }, t('confirm.savePayee'))));
    }
    const go = h('button', { type: 'button', class: 'button primary block', 'data-confirm': true }, t('confirm.submit'));
    go.addEventListener('click', () => {
      if (scamAck && !scamAck.checked) {
        const error = document.getElementById('scam-error');
        error.hidden = false;
        error.replaceChildren(icon('warning', 'icon icon-inline'), h('span', {}, t('confirm.scamAckRequired')));
        scamAck.setAttribute('aria-invalid', 'true');
        (scamAck.disabled ? go : scamAck).focus();
        return;
      }
      if (ack && !ack.checked) {
        const error = document.getElementById('risk-error');
        error.hidden = false;
        error.replaceChildren(icon('warning', 'icon icon-inline'), h('span', {}, t('confirm.riskAckRequired')));
        ack.setAttribute('aria-invalid', 'true');
        ack.setAttribute('aria-describedby', 'risk-text risk-error');
        ack.focus();
        return;
      }
      session.updateDraft({ acknowledged: Boolean(ack && ack.checked), savePayee: Boolean(save && save.checked) });
      ctx.go('#/transfer/password');
    });
    parts.push(go);
    if (!ctx.elderly) {
      parts.push(h('a', { class: 'button secondary block', href: '#/transfer/amount' }, t('confirm.changeAmount')));
    }
  }
  const node = page('transfer-confirm', t('confirm.title'), summary, ...parts);
  return { title: t('confirm.title'), node, back: ctx.elderly ? '#/transfer/purpose' : '#/transfer/amount' };
}

// ------------------------------------------------------------------ 4. transaction password
export async function password(ctx) {
  const draft = session.draft();
  if (!draft.payee || !draft.amount) return redirect(ctx, '#/transfer');
  if (!draft.key) return redirect(ctx, '#/transfer/confirm');
  const pin = field({ label: t('password.label'), hint: t('password.hint'), type: 'password', inputmode: 'numeric',
    autocomplete: 'off', maxlength: '6', class: 'input pin' });
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'button primary block' }, t('password.submit'));

  async function onSubmit(event) {
    event.preventDefault();
    pin.setError('');
    status.replaceChildren();
    const value = pin.input.value.trim();
    if (!/^\d{6}$/.test(value)) {
      pin.setError(t('password.format'));
      pin.input.focus();
      return;
    }
    const current = session.updateDraft({ pending: true });
    busy(submit, true);
    try {
      const result = await ctx.api('POST', '/api/bank/transfers', {
        ...payeeForApi(current.payee), amount: current.amount, purpose: current.purpose || '',
        idempotency_key: current.key, password: value,
        acknowledge_risk: Boolean(current.acknowledged), save_payee: Boolean(current.savePayee),
      });
      session.updateDraft({ pending: false, result });
      ctx.replace('#/transfer/result');
    } catch (error) {
      pin.input.value = '';
      if (error.status === 0) {
        // No answer: the transfer may or may not have happened. Retrying reuses the same key.
        status.replaceChildren(alertBox('error', null, h('p', {}, t('password.unknownOutcome'))));
        pin.input.focus();
        return;
      }
      session.updateDraft({ pending: false });
      if (error.code === 'wrong_password') {
        pin.setError(error.message);
        pin.input.focus();
      } else if (error.code === 'password_locked') {
        status.replaceChildren(alertBox('error', t('password.lockedTitle'), h('p', {}, error.message),
          h('button', { type: 'button', class: 'button secondary block', onclick: ctx.requestHelp },
            icon('help'), h('span', {}, t('help.big')))));
        status.querySelector('button').focus();
      } else {
        status.replaceChildren(alertBox('error', t('password.refusedTitle'), h('p', {}, error.message),
          h('a', { class: 'button secondary block', href: '#/transfer/amount' }, t('confirm.changeAmount'))));
        status.querySelector('a').focus();
      }
    } finally {
      busy(submit, false);
    }
  }

  const node = page('transfer-password', t('password.title'),
    h('p', { class: 'lead' }, t('password.intro', { amount: formatFen(draft.amount), name: payeeLabel(draft.payee) })),
    h('form', { class: 'card form', novalidate: true, onsubmit: onSubmit },
      h('p', { class: 'secure-note' }, icon('lock', 'icon icon-inline'), h('span', {}, t('password.secure'))),
      pin.wrap, status, submit));
  node.setAttribute('data-assist-sensitive', '');
  return { title: t('password.title'), node, back: '#/transfer/confirm' };
}

// ------------------------------------------------------------------ 5. result
export async function result(ctx) {
  const draft = session.draft();
  if (!draft.result) return redirect(ctx, '#/home');
  const transfer = draft.result.transfer;
  const finish = (hash) => () => {
    session.clearDraft();
    ctx.go(hash);
  };
  const node = page('transfer-result', t('result.title'),
    h('div', { class: 'result-hero' },
      h('span', { class: 'result-mark', 'aria-hidden': 'true' }, icon('check', 'result-icon')),
      h('p', { class: 'result-amount' }, formatFen(transfer.amount)),
      h('p', { class: 'lead' }, t('result.sentTo', { name: payeeLabel(transfer.payee) }))),
    h('section', { class: 'card', 'aria-label': t('result.details') },
      details([
        [t('confirm.payee'), payeeLabel(transfer.payee)],
        [t('confirm.account'), transfer.payee.account_masked],
        [t('confirm.purpose'), transfer.purpose || t('purpose.none')],
        [t('confirm.fee'), transfer.fee ? formatFen(transfer.fee) : t('confirm.feeFree')],
        [t('result.time'), formatTime(transfer.at, ctx.language)],
        [t('result.reference'), h('span', { class: 'reference' }, transfer.id)],
        [t('result.balance'), h('span', { 'data-balance-after': true }, formatFen(transfer.balance_after))],
      ])),
    h('button', { type: 'button', class: 'button primary block', onclick: finish('#/home') }, t('result.done')),
    ctx.elderly ? null
      : h('button', { type: 'button', class: 'button secondary block', onclick: finish('#/transfer') }, t('result.again')));
  return { title: t('result.title'), node };
}
