// SPDX-License-Identifier: MIT
// ShortcutsDialog.jsx - the list of keyboard shortcuts ("?").
import { t } from '../i18n.js';
import { SHORTCUTS } from '../keys.js';
import { Modal } from './Modal.jsx';

export function ShortcutsDialog({ onClose }) {
  return (
    <Modal title={t('keys.title')} onClose={onClose} testid="shortcuts-dialog">
      <table class="shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, label]) => (
            <tr key={k}>
              <td><kbd>{k}</kbd></td>
              <td>{t(label)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">{t('keys.hint')}</p>
    </Modal>
  );
}
