// SPDX-License-Identifier: MIT
// AdminAgents.jsx - the agents: list, create (role, teams, password), deactivate and reactivate.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { loadDirectory } from '../session.js';
import { me, toast, useStore } from '../store.js';
import { Avatar } from '../components/Avatar.jsx';
import { FormError } from './FormError.jsx';

function CreateAgent({ teams }) {
  const empty = { name: '', email: '', role: 'agent', password: '', team_ids: [] };
  const [f, setF] = useState(empty);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const toggleTeam = (id) =>
    setF({ ...f, team_ids: f.team_ids.includes(id) ? f.team_ids.filter((x) => x !== id) : [...f.team_ids, id] });

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { name: f.name.trim(), email: f.email.trim(), role: f.role, team_ids: f.team_ids };
    if (f.password) body.password = f.password;
    try {
      await api.createAgent(body);
      await loadDirectory();
      toast(t('agents.created', { name: body.name }));
      setF(empty);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  }

  return (
    <form class="card form-grid" onSubmit={submit} data-testid="agent-form">
      <h2>{t('agents.new')}</h2>
      <label class="field">
        <span>{t('field.name')}</span>
        <input required value={f.name} onInput={set('name')} maxLength={120} data-testid="agent-name" />
      </label>
      <label class="field">
        <span>{t('field.email')}</span>
        <input type="email" required value={f.email} onInput={set('email')} data-testid="agent-email" />
      </label>
      <label class="field">
        <span>{t('field.role')}</span>
        <select value={f.role} onChange={set('role')} data-testid="agent-role">
          <option value="agent">{t('role.agent')}</option>
          <option value="admin">{t('role.admin')}</option>
        </select>
      </label>
      <label class="field">
        <span>{t('field.password')}</span>
        <input type="password" value={f.password} onInput={set('password')} minLength={8}
          autocomplete="new-password" aria-describedby="pw-hint" data-testid="agent-password" />
        <small id="pw-hint" class="muted">{t('agents.password_hint')}</small>
      </label>
      <fieldset class="field checks">
        <legend>{t('field.teams')}</legend>
        {teams.map((tm) => (
          <label key={tm.id} class="check">
            <input type="checkbox" checked={f.team_ids.includes(tm.id)} onChange={() => toggleTeam(tm.id)} />
            {tm.name}
          </label>
        ))}
      </fieldset>
      <FormError error={error} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="agent-create">{t('agents.create')}</button>
      </div>
    </form>
  );
}

export function AdminAgents() {
  const agents = useStore((s) => s.agents);
  const teams = useStore((s) => s.teams);
  const myId = me().id;

  async function setActive(a, active) {
    try {
      await api.updateAgent(a.id, { active });
      await loadDirectory();
      toast(t(active ? 'agents.reactivated' : 'agents.deactivated', { name: a.name }));
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }

  const sorted = [...agents].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name));
  return (
    <div class="admin-grid">
      <section class="card">
        <h2>{t('admin.agents')}</h2>
        <table class="table" data-testid="agents-table">
          <thead>
            <tr>
              <th scope="col">{t('field.name')}</th>
              <th scope="col">{t('field.role')}</th>
              <th scope="col">{t('field.teams')}</th>
              <th scope="col">{t('field.status')}</th>
              <th scope="col"><span class="sr-only">{t('common.actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((a) => (
              <tr key={a.id} class={a.active ? '' : 'inactive'}>
                <td>
                  <div class="person">
                    <Avatar name={a.name} size="sm" />
                    <div><div>{a.name}</div><div class="muted small">{a.email}</div></div>
                  </div>
                </td>
                <td>{t(`role.${a.role}`)}</td>
                <td>{(a.teams || []).map((id) => (teams.find((tm) => tm.id === id) || {}).name).filter(Boolean).join(', ') || '–'}</td>
                <td><span class={`status ${a.active ? 'on' : 'off'}`}>{a.active ? t('agents.active') : t('agents.inactive')}</span></td>
                <td class="actions">
                  {a.id !== myId && (a.active ? (
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setActive(a, false)}
                      aria-label={t('agents.deactivate_named', { name: a.name })}>
                      {t('agents.deactivate')}
                    </button>
                  ) : (
                    <button type="button" class="btn btn-small btn-secondary" onClick={() => setActive(a, true)}
                      aria-label={t('agents.reactivate_named', { name: a.name })}>
                      {t('agents.reactivate')}
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <CreateAgent teams={teams} />
    </div>
  );
}
