import { useEffect, useState, type FormEvent } from 'react';
import type { AppView } from '@paas/contracts';
import { ActionStatus, PollError, Section } from '../../components/ui';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';

interface Row {
  key: number;
  name: string;
  value: string;
}

let nextKey = 1;
const rowsOf = (vars: Record<string, string>): Row[] => Object.entries(vars).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ key: nextKey++, name, value }));

/**
 * The app's own variables, editable in place: Save sends only what changed (set or removed), and
 * the API rolls out a release with them. The server's values replace the form only while it is unedited.
 */
export function EnvSection({ app }: { app: AppView }) {
  const { api } = useSession();
  const env = usePoll(`env:${app.id}`, () => api.env(app.id));
  const [rows, setRows] = useState<Row[]>([]);
  const [dirty, setDirty] = useState(false);
  const action = useAction(env.refresh);

  useEffect(() => {
    if (env.data && !dirty) setRows(rowsOf(env.data.var));
  }, [env.data, dirty]);

  const edit = (key: number, change: Partial<Row>) => {
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...change } : r)));
    setDirty(true);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const before = env.data?.var ?? {};
    const after = new Map(rows.filter((r) => r.name.trim() !== '').map((r) => [r.name.trim(), r.value]));
    const patch: Record<string, string | null> = {};
    for (const [name, value] of after) if (before[name] !== value) patch[name] = value;
    for (const name of Object.keys(before)) if (!after.has(name)) patch[name] = null;
    if (Object.keys(patch).length === 0) {
      setDirty(false);
      return;
    }
    const names = Object.keys(patch).join(', ');
    const ok = await action.run(`Saving ${names}…`, async () => {
      const r = await api.updateEnv(app.id, patch);
      return r.release_version ? `Saved ${names}: release v${r.release_version} is rolling out` : `Saved ${names} (applies at the first push)`;
    });
    if (ok) setDirty(false);
  };

  return (
    <Section title="Environment" id="env">
      <PollError error={env.error} what="the environment" />
      <form onSubmit={save}>
        {rows.length === 0 ? <p className="empty">No variables of its own.</p> : null}
        <ul className="env-list">
          {rows.map((row, n) => (
            <li key={row.key}>
              <label>
                <span className="visually-hidden">Name of variable {n + 1}</span>
                <input value={row.name} onChange={(e) => edit(row.key, { name: e.target.value })} placeholder="NAME" spellCheck={false} autoComplete="off" className="mono" />
              </label>
              <label>
                <span className="visually-hidden">Value of {row.name || `variable ${n + 1}`}</span>
                <input value={row.value} onChange={(e) => edit(row.key, { value: e.target.value })} placeholder="value" spellCheck={false} autoComplete="off" className="mono" />
              </label>
              <button
                type="button"
                className="small-button"
                aria-label={`Remove ${row.name || `variable ${n + 1}`}`}
                onClick={() => {
                  setRows((rs) => rs.filter((r) => r.key !== row.key));
                  setDirty(true);
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
        <div className="button-row">
          <button
            type="button"
            onClick={() => {
              setRows((rs) => [...rs, { key: nextKey++, name: '', value: '' }]);
              setDirty(true);
            }}
          >
            Add variable
          </button>
          <button type="submit" className="primary" disabled={action.busy || !dirty}>
            Save changes
          </button>
          {dirty ? (
            <button type="button" onClick={() => setDirty(false)}>
              Discard
            </button>
          ) : null}
        </div>
      </form>
      <ActionStatus state={action} onDismiss={action.clear} />
    </Section>
  );
}
