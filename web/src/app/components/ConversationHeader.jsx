// SPDX-License-Identifier: MIT
// ConversationHeader.jsx - subject, contact and channel of a conversation and what can be done
// with it: assign, transfer, state, priority, tags.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { agentName, PRIORITIES, priorityLabel, STATES, stateLabel } from '../format.js';
import { me, teamById, useStore } from '../store.js';
import { ChannelBadge } from './ChannelBadge.jsx';
import { Icon } from './Icon.jsx';
import { TransferDialog } from './TransferDialog.jsx';

function Tags({ conv, act }) {
  const [tag, setTag] = useState('');
  async function add(e) {
    e.preventDefault();
    const v = tag.trim();
    if (!v) return;
    if (await act(() => api.addTag(conv.id, v))) setTag('');
  }
  return (
    <div class="tags" data-testid="tags">
      <Icon name="tag" size={15} />
      <ul class="tag-list" aria-label={t('tags.label')}>
        {(conv.tags || []).map((tg) => (
          <li key={tg} class="tag">
            <span>{tg}</span>
            <button type="button" class="tag-x" aria-label={t('tags.remove', { tag: tg })}
              onClick={() => act(() => api.removeTag(conv.id, tg))}>
              <Icon name="close" size={12} />
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={add} class="tag-add">
        <input type="text" value={tag} onInput={(e) => setTag(e.currentTarget.value)}
          placeholder={t('tags.add_placeholder')} aria-label={t('tags.add')} maxLength={64}
          data-testid="tag-input" />
      </form>
    </div>
  );
}

export function ConversationHeader({ conv, act, onBack, onTogglePanel, panelOpen }) {
  const agents = useStore((s) => s.agents);
  const [transfer, setTransfer] = useState(false);
  const team = conv.team_id ? teamById(conv.team_id) : null;
  const myId = me().id;
  const assignable = agents.filter((a) => a.active || a.id === conv.assignee_id);

  return (
    <header class="conv-head">
      <div class="conv-title-row">
        <button type="button" class="icon-btn back-btn" onClick={onBack} aria-label={t('common.back')}>
          <Icon name="back" />
        </button>
        <div class="conv-title">
          <h2 id="conv-title" data-testid="conv-title">{conv.subject || t('conv.untitled', { id: conv.id })}</h2>
          <div class="conv-sub">
            <span>{(conv.contact && conv.contact.name) || t('conv.unknown_contact')}</span>
            <ChannelBadge channel={conv.channel} />
            <span class="muted">#{conv.id}</span>
            {team && <span class="muted conv-team">· {team.name}</span>}
          </div>
        </div>
        <div class="conv-buttons">
          <button type="button" class="btn btn-secondary" onClick={() => setTransfer(true)} data-testid="transfer-btn"
            aria-label={t('conv.transfer')}>
            <Icon name="transfer" size={16} /> <span class="btn-label">{t('conv.transfer')}</span>
          </button>
          {conv.state === 'resolved' ? (
            <button type="button" class="btn btn-secondary" data-testid="reopen-btn" aria-label={t('conv.reopen')}
              onClick={() => act(() => api.updateConversation(conv.id, { state: 'open' }), t('conv.reopened_toast'))}>
              <Icon name="back" size={16} /> <span class="btn-label">{t('conv.reopen')}</span>
            </button>
          ) : (
            <button type="button" class="btn btn-success" data-testid="resolve-btn" aria-label={t('conv.resolve')}
              title={`${t('conv.resolve')} (e)`}
              onClick={() => act(() => api.updateConversation(conv.id, { state: 'resolved' }), t('conv.resolved_toast'))}>
              <Icon name="check" size={16} /> <span class="btn-label">{t('conv.resolve')}</span>
            </button>
          )}
          <button type="button" class="icon-btn panel-toggle" onClick={onTogglePanel}
            aria-expanded={panelOpen} aria-label={t('customer.toggle')} title={t('customer.toggle')}>
            <Icon name="panel" />
          </button>
        </div>
      </div>
      <div class="conv-actions" role="group" aria-label={t('conv.actions')}>
        <label class="inline-field">
          <span>{t('conv.assignee')}</span>
          <select value={conv.assignee_id || ''} data-testid="assign-select"
            onChange={(e) => act(() => api.assignConversation(conv.id, e.currentTarget.value ? Number(e.currentTarget.value) : null))}>
            <option value="">{t('conv.unassigned')}</option>
            {assignable.map((a) => (
              <option key={a.id} value={a.id}>{a.id === myId ? t('conv.me', { name: a.name }) : a.name}</option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          <span>{t('conv.state')}</span>
          <select value={conv.state} data-testid="state-select"
            onChange={(e) => act(() => api.updateConversation(conv.id, { state: e.currentTarget.value }))}>
            {STATES.map((s) => <option key={s} value={s}>{stateLabel(s)}</option>)}
          </select>
        </label>
        <label class="inline-field">
          <span>{t('conv.priority')}</span>
          <select value={conv.priority} data-testid="priority-select"
            onChange={(e) => act(() => api.updateConversation(conv.id, { priority: e.currentTarget.value }))}>
            {PRIORITIES.map((p) => <option key={p} value={p}>{priorityLabel(p)}</option>)}
          </select>
        </label>
        <Tags conv={conv} act={act} />
      </div>
      {transfer && (
        <TransferDialog conv={conv} onClose={() => setTransfer(false)}
          onDone={async (body) => {
            const ok = await act(() => api.transferConversation(conv.id, body),
              t('transfer.done', { team: (teamById(body.team_id) || {}).name || '', agent: body.assignee_id ? agentName(body.assignee_id) : '' }));
            if (ok) setTransfer(false);
            return ok;
          }} />
      )}
    </header>
  );
}
