// SPDX-License-Identifier: MIT
// LangSelect.jsx - the language switch (Deutsch / English), remembered in localStorage.
import { lang, setLang, t } from '../i18n.js';
import { Icon } from './Icon.jsx';

export function LangSelect({ compact }) {
  return (
    <label class={`lang-select${compact ? ' compact' : ''}`}>
      <Icon name="globe" size={16} />
      <span class="sr-only">{t('lang.label')}</span>
      <select value={lang()} onChange={(e) => setLang(e.currentTarget.value)} data-testid="lang-select"
        aria-label={t('lang.label')}>
        <option value="de">Deutsch</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}
