// SPDX-License-Identifier: MIT
// Login.jsx - the sign-in screen: email and password, errors in the user's language.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { LangSelect } from './LangSelect.jsx';

export function Login({ onLogin }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(ev) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api.login(email.trim(), password);
      await onLogin(s);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <div class="login-page">
      <main class="login-card" aria-labelledby="login-title">
        <div class="login-brand">
          <div class="brand-mark" aria-hidden="true">K</div>
          <span class="brand-name">Knotenpunkt</span>
        </div>
        <h1 id="login-title">{t('login.title')}</h1>
        <p class="muted">{t('login.subtitle')}</p>
        <form onSubmit={submit} noValidate data-testid="login-form">
          <label class="field">
            <span>{t('login.email')}</span>
            <input type="email" name="email" autocomplete="username" required autofocus
              value={email} onInput={(e) => setEmail(e.currentTarget.value)} data-testid="login-email" />
          </label>
          <label class="field">
            <span>{t('login.password')}</span>
            <input type="password" name="password" autocomplete="current-password" required
              value={password} onInput={(e) => setPassword(e.currentTarget.value)}
              data-testid="login-password" />
          </label>
          {error && (
            <p class="form-error" role="alert" data-testid="login-error">
              {error.code === 'invalid_credentials' || error.code === 'missing_field' ||
              error.code === 'invalid_value'
                ? t('login.failed')
                : errorText(error)}
            </p>
          )}
          <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
            {busy ? t('login.busy') : t('login.submit')}
          </button>
        </form>
        <div class="login-foot">
          <LangSelect />
        </div>
      </main>
    </div>
  );
}
