// The consoles' words: one catalog per language (locales/<lang>.json, the same keys in each —
// tests/consoles/test_catalogs.py checks), chosen by the user's language setting.
// Markup names its words with data-i18n="key" (text), data-i18n-label (aria-label) and
// data-i18n-title; scripts call t("key", {vars}).
import zh from "./locales/zh.json";
import en from "./locales/en.json";

export const CATALOGS = { zh, en };
const KEY = "assist.console.lang";
const HTML_LANG = { zh: "zh-CN", en: "en" };

// The setting: ?lang= in the address, else the one the user chose in the console (kept in this
// browser), else Chinese — the bank's working language, whatever the browser was installed with.
export function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang") || localStorage.getItem(KEY);
  return CATALOGS[asked] ? asked : "zh";
}

export function createI18n(lang = chosenLanguage()) {
  const catalog = CATALOGS[lang];
  const t = (key, vars = {}) => {
    const text = catalog[key] ?? CATALOGS.zh[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  };
  const apply = (root = document) => {
    document.documentElement.lang = HTML_LANG[lang];
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.setAttribute("title", t(el.dataset.i18nTitle));
  };
  const choose = (next) => { localStorage.setItem(KEY, next); location.reload(); };
  return { lang, t, apply, choose };
}
