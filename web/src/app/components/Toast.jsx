// SPDX-License-Identifier: MIT
// Toast.jsx - the short status message at the bottom of the screen (announced to screen readers).
import { useStore } from '../store.js';

export function Toast() {
  const toast = useStore((s) => s.toast);
  return (
    <div class="toast-region" role="status" aria-live="polite">
      {toast && (
        <div class={`toast toast-${toast.kind}`} data-testid="toast">
          {toast.text}
        </div>
      )}
    </div>
  );
}
