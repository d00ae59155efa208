// SPDX-License-Identifier: MIT
// TransferDialog.jsx - hands a conversation to another team (and optionally one of its agents)
// with an internal note for them.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { useStore } from '../store.js';
import { Modal } from './Modal.jsx';

export function TransferDialog({ conv, onClose, onDone }) {
  const teams = useStore((s) => s.teams);
  const agents = useStore((s) => s.agents);
  const [teamId, setTeamId] = useState(() => String((teams.find((tm) => tm.id !== conv.team_id) || teams[0] || {}).id || ''));
  const [assignee, setAssignee] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const team = teams.find((tm) => String(tm.id) === teamId);
  const members = agents.filter((a) => a.active && team && team.members.includes(a.id));

  async function submit(e) {
    e.preventDefault();
    if (!teamId) return;
    setBusy(true);
    const body = { team_id: Number(teamId) };
    if (assignee) body.assignee_id = Number(assignee);
    if (note.trim()) body.note = note.trim();
    const ok = await onDone(body);
    if (!ok) setBusy(false);
  }

  return (
    <Modal title={t('transfer.title', { id: conv.id })} onClose={onClose} testid="transfer-dialog">
      <form onSubmit={submit} class="stack">
        <label class="field">
          <span>{t('transfer.team')}</span>
          <select value={teamId} required onChange={(e) => { setTeamId(e.currentTarget.value); setAssignee(''); }}
            data-testid="transfer-team">
            {teams.map((tm) => (
              <option key={tm.id} value={tm.id}>{tm.name}{tm.id === conv.team_id ? ` (${t('transfer.current')})` : ''}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('transfer.agent')}</span>
          <select value={assignee} onChange={(e) => setAssignee(e.currentTarget.value)} data-testid="transfer-agent">
            <option value="">{t('transfer.no_agent')}</option>
            {members.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
          </select>
        </label>
        <label class="field">
          <span>{t('transfer.note')}</span>
          <textarea rows={4} value={note} onInput={(e) => setNote(e.currentTarget.value)}
            placeholder={t('transfer.note_placeholder')} data-testid="transfer-note" />
        </label>
        <div class="form-actions">
          <button type="button" class="btn btn-secondary" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" class="btn btn-primary" disabled={busy || !teamId} data-testid="transfer-submit">
            {t('transfer.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
