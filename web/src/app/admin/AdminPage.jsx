// SPDX-License-Identifier: MIT
// AdminPage.jsx - the settings pages for admins: agents, teams, inboxes, canned answers.
import { t } from '../i18n.js';
import { href } from '../router.js';
import { isAdmin } from '../store.js';
import { AdminAgents } from './AdminAgents.jsx';
import { AdminTeams } from './AdminTeams.jsx';
import { AdminInboxes } from './AdminInboxes.jsx';
import { AdminCanned } from './AdminCanned.jsx';

const SECTIONS = { agents: AdminAgents, teams: AdminTeams, inboxes: AdminInboxes, canned: AdminCanned };

export function AdminPage({ section }) {
  if (!isAdmin()) {
    return <div class="admin"><p class="empty">{t('admin.only')}</p></div>;
  }
  const Section = SECTIONS[section] || AdminAgents;
  return (
    <div class="admin" data-testid={`admin-page-${section}`}>
      <nav class="admin-tabs" aria-label={t('nav.admin')}>
        {Object.keys(SECTIONS).map((s) => (
          <a key={s} href={href({ page: 'admin', section: s })} aria-current={s === section ? 'page' : undefined}>
            {t(`admin.${s}`)}
          </a>
        ))}
      </nav>
      <Section />
    </div>
  );
}
