// The voice assistant of the 幸福生活版: tap, speak, see the words in large type, and the app
// opens the right screen. Voice only fills in and navigates: a transfer still waits for the
// customer's own review and transaction password.
import { t } from './i18n.js';
import { formatFen } from './money.js';
import * as session from './session.js';

const transcript = []; // what the customer said recently: an agent sees it with a help request

export function recentTranscript() {
  return transcript.slice(-5);
}

let listening = false;

export async function press(ctx, button) {
  const sdk = window.Assist;
  if (!sdk || typeof sdk.startVoice !== 'function' || !session.token()) {
    ctx.toast(t('voice.unavailable'));
    return;
  }
  if (listening) { // tap again: stop listening and understand what was said
    sdk.stopVoice();
    return;
  }
  const finish = () => {
    listening = false;
    button.setAttribute('aria-pressed', 'false');
    button.classList.remove('listening');
  };
  listening = true;
  button.setAttribute('aria-pressed', 'true');
  button.classList.add('listening');
  ctx.toast(t('voice.listening'));
  await sdk.startVoice({
    onPartial: (text) => ctx.toast(text),
    onResult: (result) => { finish(); act(ctx, result).catch(() => ctx.toast(t('voice.notUnderstood'))); },
    onError: (error) => { finish(); ctx.toast(errorText(error)); },
  });
}

function errorText(error) {
  if (error.code === 'voice_unavailable') return t('voice.unavailable');
  if (error.code === 'no_microphone') return t('voice.noMicrophone');
  return error.message || t('voice.notUnderstood');
}

async function act(ctx, result) {
  if (result.text) transcript.push(result.text);
  const slots = result.slots || {};
  switch (result.intent) {
    case 'transfer': {
      const { payees } = await ctx.api('GET', '/api/bank/payees');
      const payee = slots.payee && payees.find((p) => p.nickname === slots.payee || p.name === slots.payee);
      const amount = typeof slots.amount === 'number' ? Math.round(slots.amount * 100) : undefined;
      if (payee) {
        session.saveDraft({ payee: { id: payee.id, name: payee.name, nickname: payee.nickname, bank: payee.bank,
          internal: payee.internal, account_masked: payee.account_masked }, amount });
        ctx.go('#/transfer/amount');
        ctx.toast(amount ? t('voice.transferReady', { name: payee.nickname || payee.name, amount: formatFen(amount) })
          : t('voice.transferTo', { name: payee.nickname || payee.name }));
      } else {
        session.saveDraft(amount ? { amount } : {});
        ctx.go('#/transfer');
        ctx.toast(result.message || t('voice.choosePayee'));
      }
      return;
    }
    case 'balance': {
      ctx.go('#/home');
      const { account } = await ctx.api('GET', '/api/bank/account');
      ctx.toast(t('voice.balance', { amount: formatFen(account.balance) }));
      return;
    }
    case 'records':
      ctx.go('#/records');
      return;
    case 'contact_support':
      ctx.requestHelp(recentTranscript());
      return;
    case 'back':
      history.back();
      return;
    case 'home':
      ctx.go('#/home');
      return;
    case 'cancel':
      session.clearDraft();
      ctx.go('#/home');
      ctx.toast(t('voice.cancelled'));
      return;
    default:
      ctx.toast(result.message || t('voice.notUnderstood'));
  }
}
