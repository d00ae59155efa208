// SPDX-License-Identifier: MIT
// InboxPage.jsx - a view of the inbox: the conversation list beside the open conversation on
// wide screens, one of the two on narrow ones.
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { isAdmin } from '../store.js';
import { ConversationList } from './ConversationList.jsx';
import { ConversationView } from './ConversationView.jsx';
import { Icon } from './Icon.jsx';

export function InboxPage({ route }) {
  const view = route.view === 'all' && !isAdmin() ? 'mine' : route.view;
  const select = (id) => navigate({ page: 'inbox', view, conversationId: id });
  return (
    <div class={`split${route.conversationId ? ' has-selection' : ''}`}>
      <ConversationList key={view} view={view} selectedId={route.conversationId} onSelect={select} />
      {route.conversationId ? (
        <ConversationView key={route.conversationId} id={route.conversationId}
          onBack={() => navigate({ page: 'inbox', view })} />
      ) : (
        <section class="pane conv-empty" aria-label={t('conv.none_title')}>
          <Icon name="inbox" size={40} />
          <h2>{t('conv.none_title')}</h2>
          <p class="muted">{t('conv.none_hint')}</p>
        </section>
      )}
    </div>
  );
}
