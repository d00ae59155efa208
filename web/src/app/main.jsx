// SPDX-License-Identifier: MIT
// main.jsx - the agent workspace: restores the session (or shows the login), loads the directory
// of agents, teams and inboxes, starts the real-time stream and mounts the workspace.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';
import { t } from './i18n.js';
import { startSession } from './session.js';
import { useStore } from './store.js';
import { Login } from './components/Login.jsx';
import { Workspace } from './components/Workspace.jsx';
import { Toast } from './components/Toast.jsx';

function App() {
  const session = useStore((s) => s.session);
  useStore((s) => s.lang);
  const [booting, setBooting] = useState(true);

  useEffect(() => {
    api
      .currentSession()
      .then((s) => startSession(s))
      .catch(() => {})
      .finally(() => setBooting(false));
  }, []);

  if (booting) {
    return (
      <div class="splash" aria-busy="true">
        <div class="brand-mark" aria-hidden="true">K</div>
        <p>{t('app.loading')}</p>
      </div>
    );
  }
  return (
    <>
      {session ? <Workspace /> : <Login onLogin={startSession} />}
      <Toast />
    </>
  );
}

render(<App />, document.getElementById('app'));
