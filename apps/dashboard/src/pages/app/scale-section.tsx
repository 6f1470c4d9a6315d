import { useEffect, useState, type FormEvent } from 'react';
import type { AppView, ProcessView } from '@paas/contracts';
import { ActionStatus, Section } from '../../components/ui';
import { useSession } from '../../session';
import { useAction } from '../../use-action';

/** Instances and memory of one process type; a new count applies at once, a new memory limit rolls out a release. */
export function ScaleSection({ app, processes, onChanged }: { app: AppView; processes: ProcessView[]; onChanged: () => void }) {
  const { api } = useSession();
  const [type, setType] = useState(processes.find((p) => p.type === 'web')?.type ?? processes[0]?.type ?? 'web');
  const process = processes.find((p) => p.type === type);
  const [instances, setInstances] = useState('');
  const [memory, setMemory] = useState('');
  const action = useAction(onChanged);

  // Follow the server's values until the person edits them.
  const [edited, setEdited] = useState(false);
  useEffect(() => {
    if (!process || edited) return;
    setInstances(String(process.instances));
    setMemory(String(process.memory_mb));
  }, [process, edited]);

  if (!process) {
    return (
      <Section title="Scale" id="scale">
        <p className="empty">No process types yet.</p>
      </Section>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const change: { instances?: number; memory_mb?: number } = {};
    if (Number(instances) !== process.instances) change.instances = Number(instances);
    if (Number(memory) !== process.memory_mb) change.memory_mb = Number(memory);
    if (Object.keys(change).length === 0) {
      setEdited(false);
      return;
    }
    const what = [change.instances !== undefined ? `${change.instances} instances` : '', change.memory_mb !== undefined ? `${change.memory_mb} MB` : '']
      .filter(Boolean)
      .join(', ');
    const ok = await action.run(`Scaling ${type} to ${what}…`, async () => {
      const r = await api.scale(app.id, type, change);
      return r.release_version && change.memory_mb !== undefined
        ? `Scaled ${type} to ${what}: release v${r.release_version} is rolling out`
        : `Scaled ${type} to ${what}`;
    });
    if (ok) setEdited(false);
  };

  return (
    <Section title="Scale" id="scale">
      <form className="scale-form" onSubmit={submit}>
        {processes.length > 1 ? (
          <label>
            <span>Process type</span>
            <select value={type} onChange={(e) => { setType(e.target.value); setEdited(false); }}>
              {processes.map((p) => (
                <option key={p.type} value={p.type}>
                  {p.type}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          <span>Instances</span>
          <input type="number" min={0} max={1000} step={1} required value={instances} onChange={(e) => { setInstances(e.target.value); setEdited(true); }} />
        </label>
        <label>
          <span>Memory (MB)</span>
          <input type="number" min={16} max={65536} step={1} required value={memory} onChange={(e) => { setMemory(e.target.value); setEdited(true); }} />
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Scale
        </button>
      </form>
      <p className="hint">
        Now: {process.instances} × {process.memory_mb} MB memory, {process.disk_mb} MB disk. A new instance count applies at once; a new memory limit makes a release and rolls it out.
      </p>
      <ActionStatus state={action} onDismiss={action.clear} />
    </Section>
  );
}
