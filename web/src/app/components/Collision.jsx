// SPDX-License-Identifier: MIT
// Collision.jsx - who else has this conversation open and who is typing in it, from the stream's
// presence frames (the agent himself is left out), and whether the web chat customer types.
import { t } from '../i18n.js';
import { agentName, firstName } from '../format.js';
import { me, useStore } from '../store.js';
import { Avatar } from './Avatar.jsx';

function list(names) {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} ${t('common.and')} ${names[names.length - 1]}`;
}

export function Collision({ conversationId }) {
  const p = useStore((s) => s.presence[conversationId]);
  const customerTyping = useStore((s) => !!s.visitorTyping[conversationId]);
  const myId = me().id;
  const viewers = ((p && p.viewers) || []).filter((v) => v.agent_id !== myId);
  const typingIds = ((p && p.typing) || []).filter((id) => id !== myId);
  const nameOf = (id) => (viewers.find((v) => v.agent_id === id) || {}).name || agentName(id);
  const typingNames = typingIds.map((id) => firstName(nameOf(id)));
  const watching = viewers.filter((v) => !typingIds.includes(v.agent_id)).map((v) => v.name);
  const active = viewers.length > 0 || typingNames.length > 0 || customerTyping;
  return (
    <div class={`collision${active ? ' active' : ''}${typingNames.length || customerTyping ? ' typing' : ''}`}
      data-testid="collision" aria-live="polite" aria-atomic="true">
      {active && (
        <>
          {customerTyping && (
            <span class="collision-typing" data-testid="customer-typing">
              {t('collision.customer_typing')}
              <span class="typing-dots" aria-hidden="true"><i /><i /><i /></span>
            </span>
          )}
          <span class="collision-avatars" aria-hidden="true">
            {viewers.slice(0, 3).map((v) => <Avatar key={v.agent_id} name={v.name} size="xs" />)}
          </span>
          {typingNames.length > 0 && (
            <span class="collision-typing">
              {t(typingNames.length === 1 ? 'collision.typing_one' : 'collision.typing_many', { names: list(typingNames) })}
              <span class="typing-dots" aria-hidden="true"><i /><i /><i /></span>
            </span>
          )}
          {watching.length > 0 && (
            <span class="collision-viewing">
              {t(watching.length === 1 ? 'collision.viewing_one' : 'collision.viewing_many', { names: list(watching) })}
            </span>
          )}
        </>
      )}
    </div>
  );
}
