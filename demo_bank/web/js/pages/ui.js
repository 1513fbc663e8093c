// Pieces shared by the pages: page frame, form fields, alerts, amounts.
import { h, icon, nextId } from '../dom.js';
import { t } from '../i18n.js';

export function page(name, title, ...children) {
  return h('div', { class: `page page-${name}` }, h('h1', { tabindex: '-1', class: 'page-title' }, title), ...children);
}

// A labelled input with its hint and error wired up for assistive technology.
export function field({ label, hint, prefix, ...attrs }) {
  const id = nextId('f');
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h('input', { id, class: 'input', 'aria-describedby': hintId, ...attrs });
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id, class: 'label' }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    prefix ? h('div', { class: 'input-affix' }, h('span', { class: 'affix', 'aria-hidden': 'true' }, prefix), input) : input,
    error);
  return {
    wrap,
    input,
    setError(message) {
      error.hidden = !message;
      error.replaceChildren(...(message ? [icon('warning', 'icon icon-inline'), h('span', {}, message)] : []));
      if (message) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
      } else {
        input.removeAttribute('aria-invalid');
        if (hintId) input.setAttribute('aria-describedby', hintId);
        else input.removeAttribute('aria-describedby');
      }
    },
  };
}

export function alertBox(kind, title, ...body) {
  return h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : null },
    icon(kind === 'success' ? 'check' : 'warning', 'icon alert-icon'),
    h('div', { class: 'alert-body' }, title ? h('h2', { class: 'alert-title' }, title) : null, ...body));
}

export function payeeLabel(payee) {
  return payee.nickname ? t('payee.withNickname', { nickname: payee.nickname, name: payee.name }) : payee.name;
}

export function avatar(payee) {
  const text = (payee.nickname || payee.name || '?').slice(0, 1);
  return h('span', { class: 'avatar', 'aria-hidden': 'true' }, text);
}

export function bankOf(payee) {
  if (payee.bank) return payee.bank;
  return payee.internal ? t('payee.thisBank') : t('payee.otherBank');
}

// "工商银行 · 6222 **** **** 3445"; the elderly edition says "工商银行 · 尾号3445" (shorter, no stars).
export function payeeMeta(payee) {
  const masked = payee.account_masked || '';
  const account = document.documentElement.classList.contains('edition-elderly')
    ? t('payee.tail', { last4: masked.slice(-4) }) : masked;
  return `${bankOf(payee)} · ${account}`;
}

// A list of label/value rows (a description list).
export function details(rows) {
  return h('dl', { class: 'details' }, rows.filter(Boolean).map(([label, value, cls]) =>
    h('div', { class: `details-row ${cls || ''}` }, h('dt', {}, label), h('dd', {}, value))));
}

export function formatTime(seconds, language) {
  const options = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hour12: false, timeZone: 'Asia/Shanghai' };
  return new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : 'zh-CN', options).format(new Date(seconds * 1000));
}

export function busy(button, on) {
  button.disabled = on;
  if (on) button.setAttribute('aria-busy', 'true');
  else button.removeAttribute('aria-busy');
}
