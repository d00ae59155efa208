// SPDX-License-Identifier: MIT
// Avatar.jsx - initials in a coloured circle (decorative: the name is always written next to it).
import { hue, initials } from '../format.js';

export function Avatar({ name, size = 'md', kind = '' }) {
  return (
    <span class={`avatar avatar-${size} hue-${hue(name)} ${kind}`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
