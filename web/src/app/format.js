// SPDX-License-Identifier: MIT
// format.js - dates, names and labels as the workspace shows them, in the current language.
import { lang, t } from './i18n.js';
import { agentById } from './store.js';

const locale = () => (lang() === 'de' ? 'de-DE' : 'en-GB');

export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDate(iso) {
  return iso ? new Date(iso).toLocaleDateString(locale(), { dateStyle: 'medium' }) : '';
}

/** Short time for lists: "14:05" today, "27 Nov" this year, else "27/11/2025". */
export function formatShort(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
  }
  if (d.getFullYear() === now.getFullYear()) {
    return d.toLocaleDateString(locale(), { day: 'numeric', month: 'short' });
  }
  return d.toLocaleDateString(locale());
}

/** "5 min", "3 h", "2 d" since iso (for waiting times). */
export function formatAge(iso) {
  if (!iso) return '';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 3600) return t('age.min', { n: Math.max(1, Math.round(s / 60)) });
  if (s < 86400) return t('age.h', { n: Math.round(s / 3600) });
  return t('age.d', { n: Math.round(s / 86400) });
}

export function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const channelLabel = (ch) => t(`channel.${ch}`) === `channel.${ch}` ? ch : t(`channel.${ch}`);
export const stateLabel = (s) => t(`state.${s}`);
export const priorityLabel = (p) => t(`priority.${p}`);

export function agentName(id) {
  if (id == null) return '';
  const a = agentById(id);
  return a ? a.name : t('agent.unknown', { id });
}

export const firstName = (name) => String(name || '').split(/\s+/)[0];

export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/);
  return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

/** A stable avatar colour class (0..7) for a name. */
export function hue(name) {
  let h = 0;
  for (const c of String(name || '')) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 8;
}

export const CHANNELS = ['email', 'webchat', 'whatsapp', 'sms', 'facebook', 'instagram', 'telegram',
  'twitter', 'phone', 'api'];
export const STATES = ['open', 'pending', 'snoozed', 'resolved'];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

/** The channels an identity of this kind can be answered on. */
const KIND_CHANNELS = {
  email: ['email'],
  phone: ['sms', 'whatsapp', 'phone'],
  whatsapp: ['whatsapp'],
  telegram: ['telegram'],
  instagram: ['instagram'],
  facebook: ['facebook'],
  twitter: ['twitter'],
  shop: ['webchat'],
};

export function replyChannels(contact, conversation) {
  const set = new Set();
  if (conversation) set.add(conversation.channel);
  for (const m of (conversation && conversation.messages) || []) if (m.direction === 'in') set.add(m.channel);
  for (const id of (contact && contact.identities) || []) {
    for (const ch of KIND_CHANNELS[id.kind] || []) set.add(ch);
  }
  return CHANNELS.filter((c) => set.has(c));
}
