// SPDX-License-Identifier: MIT
// FormError.jsx - an API error under a form, in the user's language.
import { errorText } from '../i18n.js';

export function FormError({ error }) {
  if (!error) return null;
  return <p class="form-error" role="alert" data-testid="form-error">{errorText(error)}</p>;
}
