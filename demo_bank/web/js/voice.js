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
const SPEAK = 'assist-bank.voice.speak';

// Answers are spoken aloud (and shown) unless the customer turned speech off in Settings.
export function speaks() {
  try {
    return localStorage.getItem(SPEAK) !== 'off';
  } catch {
    return true;
  }
}

export function setSpeaks(on) {
  try {
    localStorage.setItem(SPEAK, on ? 'on' : 'off');
  } catch { /* this page only */ }
  if (!on && window.speechSynthesis) window.speechSynthesis.cancel();
}

function say(ctx, text) {
  ctx.toast(text);
  if (!speaks() || !window.speechSynthesis || typeof SpeechSynthesisUtterance !== 'function') return;
  window.speechSynthesis.cancel();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = ctx.language === 'en' ? 'en-US' : 'zh-CN';
  utterance.rate = 0.9; // a little slower than default: the elderly edition
  window.speechSynthesis.speak(utterance);
}

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
  // While listening the button looks and reads differently: "在听…点一下结束".
  const label = button.querySelector('span');
  const show = (on) => {
    listening = on;
    button.setAttribute('aria-pressed', String(on));
    button.classList.toggle('listening', on);
    if (label) label.textContent = t(on ? 'voice.listeningButton' : 'voice.button');
  };
  if (window.speechSynthesis) window.speechSynthesis.cancel(); // the assistant stops talking to listen
  show(true);
  ctx.toast(t('voice.listening'));
  await sdk.startVoice({
    onPartial: (text) => ctx.toast(text),
    onResult: (result) => { show(false); act(ctx, result).catch(() => say(ctx, t('voice.notUnderstood'))); },
    onError: (error) => { show(false); say(ctx, errorText(error)); },
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
        say(ctx, amount ? t('voice.transferReady', { name: payee.nickname || payee.name, amount: formatFen(amount) })
          : t('voice.transferTo', { name: payee.nickname || payee.name }));
      } else {
        session.saveDraft(amount ? { amount } : {});
        ctx.go('#/transfer');
        say(ctx, result.message || t('voice.choosePayee'));
      }
      return;
    }
    case 'balance': {
      ctx.go('#/home');
      const { account } = await ctx.api('GET', '/api/bank/account');
      say(ctx, t('voice.balance', { amount: formatFen(account.balance) }));
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
      say(ctx, t('voice.cancelled'));
      return;
    default:
      say(ctx, result.message || t('voice.notUnderstood'));
  }
}
