// SPDX-License-Identifier: MIT
// Nav.jsx - the views of the inbox and, for admins, the settings pages.
import { t } from '../i18n.js';
import { href } from '../router.js';
import { Icon } from './Icon.jsx';

const VIEWS = [
  ['mine', 'user'],
  ['unassigned', 'inbox'],
  ['teams', 'users'],
  ['all', 'layers', true],
  ['waiting', 'clock'],
];

const ADMIN = [
  ['agents', 'user'],
  ['teams', 'users'],
  ['inboxes', 'inbox'],
  ['canned', 'note'],
];

export function Nav({ route, admin }) {
  const cur = (page, key) =>
    route.page === page && (page === 'admin' ? route.section === key : route.view === key)
      ? 'page'
      : undefined;
  return (
    <nav class="sidenav" aria-label={t('nav.label')}>
      <h2 class="sidenav-title">{t('nav.inbox')}</h2>
      <ul>
        {VIEWS.filter(([, , adminOnly]) => admin || !adminOnly).map(([key, icon]) => (
          <li key={key}>
            <a href={href({ page: 'inbox', view: key })} aria-current={cur('inbox', key)}
              data-testid={`view-${key}`}>
              <Icon name={icon} size={17} />
              <span>{t(`view.${key}`)}</span>
            </a>
          </li>
        ))}
      </ul>
      {admin && (
        <>
          <h2 class="sidenav-title">{t('nav.admin')}</h2>
          <ul>
            {ADMIN.map(([key, icon]) => (
              <li key={key}>
                <a href={href({ page: 'admin', section: key })} aria-current={cur('admin', key)}
                  data-testid={`admin-${key}`}>
                  <Icon name={icon} size={17} />
                  <span>{t(`admin.${key}`)}</span>
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </nav>
  );
}
