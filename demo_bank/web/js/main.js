// The demo bank app: hash routes (#/home, #/transfer, …), three editions, the assist SDK hooks.
import { h, icon } from './dom.js';
import { loadCatalogs, setLocale, t } from './i18n.js';
import { api, whenSignInExpires } from './api.js';
import * as session from './session.js';
import * as sdk from './sdk.js';
import * as login from './pages/login.js';
import * as home from './pages/home.js';
import * as records from './pages/records.js';
import * as payees from './pages/payees.js';
import * as limits from './pages/limits.js';
import * as settings from './pages/settings.js';
import * as transfer from './pages/transfer.js';
import * as voiceAssistant from './voice.js';

const ROUTES = {
  '/login': { render: login.render, public: true },
  '/home': { render: home.render, tab: 'home' },
  '/transfer': { render: transfer.choosePayee, tab: 'transfer' },
  '/transfer/new': { render: transfer.newPayee },
  '/transfer/amount': { render: transfer.amount },
  '/transfer/purpose': { render: transfer.purpose },
  '/transfer/confirm': { render: transfer.confirm },
  '/transfer/password': { render: transfer.password },
  '/transfer/result': { render: transfer.result },
  '/records': { render: records.render, tab: 'records' },
  '/payees': { render: payees.render },
  '/limits': { render: limits.render },
  '/settings': { render: settings.render, public: true, tab: 'settings' },
};

const TABS = [
  { key: 'home', hash: '#/home', icon: 'home' },
  { key: 'transfer', hash: '#/transfer', icon: 'transfer' },
  { key: 'records', hash: '#/records', icon: 'records' },
  { key: 'settings', hash: '#/settings', icon: 'settings' },
];

const KEEP_ALIVE_MS = 60 * 1000;
let lastActivity = Date.now();
for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, () => { lastActivity = Date.now(); }, true);

// A customer who is using the app, or being helped by an agent, stays signed in; an idle one
// is signed out when the token expires, as a bank app should.
setInterval(async () => {
  const helped = window.Assist && typeof window.Assist.state === 'function' && window.Assist.state().sessionId;
  if (!session.token() || (!helped && Date.now() - lastActivity > 5 * 60 * 1000)) return;
  const fresh = await session.refreshIfDue().catch(() => null);
  if (fresh) sdk.configure(edition, session.languageOf(edition), fresh);
}, KEEP_ALIVE_MS);

const root = document.documentElement;
const main = document.getElementById('main');
let edition = session.edition();
let renderCount = 0;
let toastTimer = 0;

function applyEdition(next) {
  edition = next;
  const language = session.languageOf(next);
  setLocale(language, next);
  root.lang = language === 'en' ? 'en' : 'zh-CN';
  for (const name of session.EDITIONS) root.classList.toggle(`edition-${name}`, name === next);
}

function toast(text) {
  const box = document.getElementById('toast');
  clearTimeout(toastTimer);
  box.replaceChildren(h('p', { class: 'toast-text' }, text));
  box.classList.add('visible');
  toastTimer = setTimeout(() => {
    box.classList.remove('visible');
    box.replaceChildren();
  }, 8000);
}

function helpTopic() {
  return location.hash.startsWith('#/transfer') ? 'transfer' : 'general';
}

// Someone who cannot sign in still reaches an agent: a short-lived guest token, one request.
let guest = false;
async function helpAsGuest() {
  const response = await fetch('/api/auth/guest', { method: 'POST' }).catch(() => null);
  if (!response || !response.ok) return false;
  sdk.init((await response.json()).token, edition, ctx.language);
  guest = true;
  return true;
}

async function requestHelp(transcript = []) {
  if (!sdk.available()) {
    toast(t('help.unavailable'));
    return;
  }
  if (!session.token() && !guest && !(await helpAsGuest())) {
    toast(t('help.guestFailed'));
    return;
  }
  const outcome = sdk.requestHelp(helpTopic(), Array.isArray(transcript) ? transcript : []);
  if (!outcome.ok) {
    toast(t('help.failed'));
  } else if (outcome.value && typeof outcome.value.then === 'function') {
    // The SDK tells the customer itself when a request fails.
    outcome.value.catch((error) => console.warn('help request failed', error));
  }
}

function voice(event) {
  voiceAssistant.press(ctx, event.currentTarget);
}

const ctx = {
  get edition() { return edition; },
  get language() { return session.languageOf(edition); },
  get elderly() { return edition === 'elderly'; },
  api,
  toast,
  requestHelp,
  go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  replace(hash) {
    location.replace(hash);
  },
  signedIn(answer) {
    session.signIn(answer);
    guest = false;
    sdk.init(answer.token, edition, ctx.language);
  },
  signOut(message) {
    // Help in hand ends first (the agent is told now), then the server signs us out everywhere
    // (every token of this customer refused, sockets closed); best effort: an expired token is
    // refused there anyway.
    sdk.shutdown();
    if (session.token()) api('POST', '/api/auth/logout').catch(() => {});
    session.signOut();
    if (message) toast(message);
    ctx.go('#/login');
  },
  setEdition(next) {
    session.setEdition(next);
    applyEdition(next);
    sdk.configure(next, ctx.language);
  },
};

function chrome(route, page) {
  const start = document.getElementById('topbar-start');
  const end = document.getElementById('topbar-end');
  start.replaceChildren(page.back
    ? h('button', { type: 'button', class: 'back-button', onclick: () => ctx.go(page.back) },
      icon('back'), h('span', { class: edition === 'elderly' ? '' : 'visually-hidden' }, t('nav.back')))
    : h('span', { class: 'logo', 'aria-hidden': 'true' }, icon('shield', 'logo-icon')));
  document.getElementById('brand').textContent = t('brand.name');
  end.replaceChildren(edition === 'elderly' ? '' : h('button', {
    type: 'button', class: 'help-chip', 'data-help': true, onclick: () => requestHelp(),
  }, icon('help'), h('span', {}, t('help.short'))));

  const tabbar = document.getElementById('tabbar');
  const showTabs = edition !== 'elderly' && route.tab && session.token();
  tabbar.hidden = !showTabs;
  tabbar.setAttribute('aria-label', t('nav.tabs'));
  tabbar.replaceChildren(showTabs ? h('ul', { class: 'tabs' }, TABS.map((tab) => h('li', {},
    h('a', { href: tab.hash, class: 'tab', 'aria-current': tab.key === route.tab ? 'page' : null },
      icon(tab.icon), h('span', {}, t(`tab.${tab.key}`)))))) : '');

  const dock = document.getElementById('dock-buttons');
  dock.replaceChildren(...(edition === 'elderly' ? [
    h('button', { type: 'button', class: 'voice-button', 'data-voice-button': true, 'aria-pressed': 'false', onclick: voice },
      icon('mic'), h('span', {}, t('voice.button'))),
    h('button', { type: 'button', class: 'help-button', 'data-help': true, onclick: () => requestHelp() },
      icon('help'), h('span', {}, t('help.big'))),
  ] : []));
  document.getElementById('dock').setAttribute('aria-label', t('nav.dock'));
}

async function render() {
  const count = ++renderCount;
  let path = location.hash.replace(/^#/, '') || '';
  if (!path) {
    location.replace(session.token() ? '#/home' : '#/login');
    return;
  }
  const route = ROUTES[path];
  if (!route) {
    location.replace('#/home');
    return;
  }
  if (!route.public && !session.token()) {
    location.replace('#/login');
    return;
  }
  if (path === '/login' && session.token()) {
    location.replace('#/home');
    return;
  }
  main.setAttribute('aria-busy', 'true');
  let page;
  try {
    page = await route.render(ctx);
  } catch (error) {
    if (count !== renderCount) return;
    if (error && error.status === 401) return; // signed out already
    console.error(error);
    page = {
      title: t('error.title'),
      back: '#/home',
      node: h('div', { class: 'page' },
        h('h1', { tabindex: '-1' }, t('error.title')),
        h('div', { class: 'alert alert-error', role: 'alert' }, h('p', {}, (error && error.message) || t('error.server'))),
        h('button', { type: 'button', class: 'button primary', onclick: () => render() }, t('action.retry'))),
    };
  }
  if (count !== renderCount || !page) return; // a newer navigation took over, or a redirect
  main.removeAttribute('aria-busy');
  main.replaceChildren(page.node);
  document.title = `${page.title} - ${t('brand.name')}`;
  chrome(route, page);
  window.scrollTo(0, 0);
  const heading = main.querySelector('h1');
  if (heading) {
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

// Fixed bars (tab bar, elderly dock) never cover content or the focused element. When text is
// so large that the elderly dock would fill a third of the screen, it stays at the end of the
// page instead of floating over it.
function trackBottomBars() {
  const update = () => {
    const tabbar = document.getElementById('tabbar');
    const dock = document.getElementById('dock-buttons');
    root.classList.remove('dock-static');
    const tooTall = dock.offsetHeight > window.innerHeight * 0.3;
    root.classList.toggle('dock-static', tooTall);
    const space = (tabbar.hidden ? 0 : tabbar.offsetHeight) + (tooTall ? 0 : dock.offsetHeight);
    root.style.setProperty('--bottom-space', `${space}px`);
  };
  window.addEventListener('resize', update);
  const observer = new ResizeObserver(update);
  observer.observe(document.getElementById('tabbar'));
  observer.observe(document.getElementById('dock-buttons'));
  update();
}

async function boot() {
  applyEdition(edition);
  await loadCatalogs();
  whenSignInExpires((error) => {
    if (session.token()) ctx.signOut(error.message || t('login.expired'));
  });
  const signed = session.current();
  if (signed) {
    if (signed.expiresAt && signed.expiresAt < Date.now()) session.signOut();
    else sdk.init(signed.token, edition, ctx.language);
  }
  window.addEventListener('hashchange', render);
  trackBottomBars();
  await render();
}

boot();
