// SPDX-License-Identifier: MIT
// Modal.jsx - an accessible dialog: focus moves in and is kept inside, Escape closes, focus
// returns to where it was.
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n.js';
import { Icon } from './Icon.jsx';

export function Modal({ title, onClose, children, testid, wide }) {
  const box = useRef(null);
  useEffect(() => {
    const before = document.activeElement;
    const first = box.current.querySelector('[autofocus], input, select, textarea, button');
    (first || box.current).focus();
    return () => before && before.focus && before.focus();
  }, []);
  function onKeyDown(e) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    } else if (e.key === 'Tab') {
      const f = [...box.current.querySelectorAll(
        'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex="0"]',
      )];
      if (!f.length) return;
      const i = f.indexOf(document.activeElement);
      if (e.shiftKey && i <= 0) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && i === f.length - 1) {
        e.preventDefault();
        f[0].focus();
      }
    }
  }
  return (
    <div class="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class={`modal${wide ? ' modal-wide' : ''}`} role="dialog" aria-modal="true"
        aria-labelledby="modal-title" ref={box} tabIndex={-1} onKeyDown={onKeyDown} data-testid={testid}>
        <div class="modal-head">
          <h2 id="modal-title">{title}</h2>
          <button type="button" class="icon-btn" onClick={onClose} aria-label={t('common.close')}>
            <Icon name="close" />
          </button>
        </div>
        <div class="modal-body">{children}</div>
      </div>
    </div>
  );
}
