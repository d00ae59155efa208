// SPDX-License-Identifier: MIT
// i18n.js - German and English: the language comes from localStorage, else navigator.language;
// t(key, params) looks a string up in the current table (English as fallback) and fills in
// {placeholders}; keys ending in _one/_other are picked by count.
import { STRINGS } from './strings.js';
import { getState, setState } from './store.js';

export const LANGS = ['de', 'en'];
const KEY = 'kp.lang';

function initialLang() {
  try {
    const saved = localStorage.getItem(KEY);
    if (LANGS.includes(saved)) return saved;
  } catch {
    /* storage may be disabled */
  }
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('de') ? 'de' : 'en';
}

setState({ lang: initialLang() });
document.documentElement.lang = getState().lang;

export function lang() {
  return getState().lang;
}

export function setLang(l) {
  if (!LANGS.includes(l)) return;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    /* not remembered then */
  }
  document.documentElement.lang = l;
  setState({ lang: l });
}

export function t(key, params) {
  const table = STRINGS[lang()] || STRINGS.en;
  let k = key;
  if (params && typeof params.count === 'number') {
    const form = new Intl.PluralRules(lang()).select(params.count) === 'one' ? 'one' : 'other';
    if (`${key}_${form}` in table || `${key}_${form}` in STRINGS.en) k = `${key}_${form}`;
  }
  let s = table[k] ?? STRINGS.en[k];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, p) => (p in params ? String(params[p]) : m));
  return s;
}

/** The user-facing text of an ApiError (or any error), in the current language. */
export function errorText(err) {
  if (!err) return '';
  const table = STRINGS[lang()] || STRINGS.en;
  const key = `error.${err.code}`;
  const fallback = () => (err.message ? t('error.generic_msg', { message: err.message }) : t('error.generic'));
  if (!(key in table)) return fallback();
  if (!table[key].includes('{field}')) return t(key);
  if (!err.field) return fallback();
  const f = t(`field.${err.field}`);
  return t(key, { field: f.startsWith('field.') ? err.field : f });
}
