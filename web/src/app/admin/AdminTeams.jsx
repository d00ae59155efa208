// SPDX-License-Identifier: MIT
// AdminTeams.jsx - the teams: create, rename, add and remove members.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { errorText, t } from '../i18n.js';
import { loadDirectory } from '../session.js';
import { toast, useStore } from '../store.js';
import { FormError } from './FormError.jsx';

function TeamCard({ team, agents }) {
  const [name, setName] = useState(team.name);
  const [error, setError] = useState(null);

  async function rename(e) {
    e.preventDefault();
    setError(null);
    try {
      await api.renameTeam(team.id, name.trim());
      await loadDirectory();
      toast(t('teams.renamed', { name: name.trim() }));
    } catch (err) {
      setError(err);
    }
  }

  async function toggle(a) {
    try {
      if (team.members.includes(a.id)) await api.removeMember(team.id, a.id);
      else await api.addMember(team.id, a.id);
      await loadDirectory();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  return (
    <section class="card" data-testid="team-card" aria-labelledby={`team-${team.id}`}>
      <div class="card-title">
        <h3 id={`team-${team.id}`}>{team.name}</h3>
        <span class="muted small">#{team.id}</span>
      </div>
      <form class="inline-form" onSubmit={rename}>
        <label class="field grow">
          <span>{t('teams.name')}</span>
          <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn-secondary" disabled={name.trim() === team.name || !name.trim()}>
          {t('common.rename')}
        </button>
      </form>
      <FormError error={error} />
      <fieldset class="checks members">
        <legend>{t('teams.members', { count: team.members.length })}</legend>
        {agents.filter((a) => a.active || team.members.includes(a.id)).map((a) => (
          <label key={a.id} class="check">
            <input type="checkbox" checked={team.members.includes(a.id)} onChange={() => toggle(a)} />
            {a.name}
          </label>
        ))}
      </fieldset>
    </section>
  );
}

export function AdminTeams() {
  const teams = useStore((s) => s.teams);
  const agents = useStore((s) => s.agents);
  const [name, setName] = useState('');
  const [error, setError] = useState(null);

  async function create(e) {
    e.preventDefault();
    setError(null);
    try {
      await api.createTeam(name.trim());
      await loadDirectory();
      toast(t('teams.created', { name: name.trim() }));
      setName('');
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div class="admin-stack">
      <form class="card inline-form" onSubmit={create}>
        <label class="field grow">
          <span>{t('teams.new')}</span>
          <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)}
            placeholder={t('teams.new_placeholder')} data-testid="team-new-name" />
        </label>
        <button type="submit" class="btn btn-primary" disabled={!name.trim()}>{t('teams.create')}</button>
        <FormError error={error} />
      </form>
      <div class="cards">
        {[...teams].sort((a, b) => a.name.localeCompare(b.name)).map((tm) => (
          <TeamCard key={`${tm.id}:${tm.name}`} team={tm} agents={agents} />
        ))}
      </div>
    </div>
  );
}
