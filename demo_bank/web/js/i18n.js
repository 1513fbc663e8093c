// Message catalogs (/app/i18n/zh.json, en.json): every word the app shows comes from them.
// The elderly edition may reword a message through the catalog's "@elderly" section.

const catalogs = {};
let language = 'zh';
let edition = 'standard';

export async function loadCatalogs() {
  const load = async (lang) => {
    const response = await fetch(`/app/i18n/${lang}.json`, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`catalog ${lang}: HTTP ${response.status}`);
    catalogs[lang] = await response.json();
  };
  await Promise.all([load('zh'), load('en')]);
}

export function setLocale(lang, ed) {
  language = lang;
  edition = ed;
}

export function currentLanguage() {
  return language;
}

export function t(key, params) {
  const catalog = catalogs[language] || {};
  let text = (edition === 'elderly' && catalog['@elderly'] && catalog['@elderly'][key]) || catalog[key];
  if (text === undefined) text = (catalogs.zh || {})[key];
  if (text === undefined) {
    console.warn('missing message', language, key);
    return key;
  }
  if (params) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  return text;
}
