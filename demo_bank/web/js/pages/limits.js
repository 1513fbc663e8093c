import { h } from '../dom.js';
import { t } from '../i18n.js';
import { fenToInput, formatFen, parseYuan } from '../money.js';
import { alertBox, busy, details, field, page } from './ui.js';

export async function render(ctx) {
  let limits = await ctx.api('GET', '/api/bank/limits');
  const summary = h('div', {});
  const paintSummary = () => summary.replaceChildren(details([
    [t('limits.perTransaction'), formatFen(limits.per_transaction)],
    [t('limits.daily'), formatFen(limits.daily)],
    [t('limits.usedToday'), formatFen(limits.used_today)],
    [t('limits.remainingToday'), formatFen(limits.remaining_today)],
  ]));
  paintSummary();

  const per = field({ label: t('limits.newPerTransaction'), prefix: '¥', inputmode: 'decimal', autocomplete: 'off',
    'data-assist-unmask': true,
    hint: t('limits.maximum', { max: formatFen(limits.max_per_transaction) }), value: fenToInput(limits.per_transaction) });
  const daily = field({ label: t('limits.newDaily'), prefix: '¥', inputmode: 'decimal', autocomplete: 'off',
    'data-assist-unmask': true,
    hint: t('limits.maximum', { max: formatFen(limits.max_daily) }), value: fenToInput(limits.daily) });
  const status = h('div', { class: 'form-status' });
  const save = h('button', { type: 'submit', class: 'button primary block' }, t('limits.save'));

  async function onSubmit(event) {
    event.preventDefault();
    status.replaceChildren();
    per.setError('');
    daily.setError('');
    const perFen = parseYuan(per.input.value);
    const dailyFen = parseYuan(daily.input.value);
    const checks = [[per, perFen, limits.max_per_transaction], [daily, dailyFen, limits.max_daily]];
    for (const [f, value, max] of checks) {
      if (value === null || value <= 0) {
        f.setError(t('amount.invalid'));
        f.input.focus();
        return;
      }
      if (value > max) {
        f.setError(t('limits.aboveMaximum', { max: formatFen(max) }));
        f.input.focus();
        return;
      }
    }
    if (perFen > dailyFen) {
      per.setError(t('limits.order'));
      per.input.focus();
      return;
    }
    busy(save, true);
    try {
      limits = await ctx.api('PUT', '/api/bank/limits', { per_transaction: perFen, daily: dailyFen });
      paintSummary();
      status.replaceChildren(alertBox('success', null, h('p', {}, t('limits.saved'))));
      ctx.toast(t('limits.saved'));
    } catch (error) {
      status.replaceChildren(alertBox('error', null, h('p', {}, error.message)));
    } finally {
      busy(save, false);
    }
  }

  const node = page('limits', t('limits.title'),
    h('p', { class: 'lead' }, t('limits.intro')),
    h('section', { class: 'card', 'aria-labelledby': 'limits-now' },
      h('h2', { class: 'section-title', id: 'limits-now' }, t('limits.current')), summary),
    h('form', { class: 'card form', novalidate: true, onsubmit: onSubmit, 'aria-labelledby': 'limits-change' },
      h('h2', { class: 'section-title', id: 'limits-change' }, t('limits.change')),
      per.wrap, daily.wrap, status, save));
  return { title: t('limits.title'), node, back: '#/home' };
}
