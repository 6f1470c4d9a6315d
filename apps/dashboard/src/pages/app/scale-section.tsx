import { useEffect, useState, type FormEvent } from 'react';
import { formatCpu, parseCpuMillicores, type AppView, type ProcessView } from '@paas/contracts';
import { ActionStatus, Section } from '../../components/ui';
import { useSession } from '../../session';
import { useAction } from '../../use-action';

/** Instances, memory and CPU quota of one process type; a new count applies at once, a new limit rolls out a release. */
export function ScaleSection({ app, processes, onChanged }: { app: AppView; processes: ProcessView[]; onChanged: () => void }) {
  const { api } = useSession();
  const [type, setType] = useState(processes.find((p) => p.type === 'web')?.type ?? processes[0]?.type ?? 'web');
  const process = processes.find((p) => p.type === type);
  const [instances, setInstances] = useState('');
  const [memory, setMemory] = useState('');
  /** Cores (0.5) or millicores (500m); empty: no quota. */
  const [cpu, setCpu] = useState('');
  const action = useAction(onChanged);

  // Follow the server's values until the person edits them.
  const [edited, setEdited] = useState(false);
  useEffect(() => {
    if (!process || edited) return;
    setInstances(String(process.instances));
    setMemory(String(process.memory_mb));
    setCpu(process.cpu_millicores === null ? '' : formatCpu(process.cpu_millicores));
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
    const change: { instances?: number; memory_mb?: number; cpu_millicores?: number | null } = {};
    if (Number(instances) !== process.instances) change.instances = Number(instances);
    if (Number(memory) !== process.memory_mb) change.memory_mb = Number(memory);
    const millicores = cpu.trim() === '' ? null : parseCpuMillicores(cpu);
    if (typeof millicores === 'string') {
      await action.run('Checking the CPU limit…', () => Promise.reject(new Error(`CPU ${millicores}; leave it empty for no quota`)));
      return;
    }
    if (millicores !== process.cpu_millicores) change.cpu_millicores = millicores;
    if (Object.keys(change).length === 0) {
      setEdited(false);
      return;
    }
    const what = [
      change.instances !== undefined ? `${change.instances} instances` : '',
      change.memory_mb !== undefined ? `${change.memory_mb} MB` : '',
      change.cpu_millicores === null ? 'no CPU quota' : change.cpu_millicores !== undefined ? `${formatCpu(change.cpu_millicores)} CPU` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const ok = await action.run(`Scaling ${type} to ${what}…`, async () => {
      const r = await api.scale(app.id, type, change);
      return r.release_version && (change.memory_mb !== undefined || change.cpu_millicores !== undefined)
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
        <label>
          <span>CPU (cores)</span>
          <input type="text" inputMode="decimal" placeholder="no quota" size={8} value={cpu} onChange={(e) => { setCpu(e.target.value); setEdited(true); }} />
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Scale
        </button>
      </form>
      <p className="hint">
        Now: {process.instances} × {process.memory_mb} MB memory, {process.disk_mb} MB disk,{' '}
        {process.cpu_millicores === null ? 'no CPU quota' : `${formatCpu(process.cpu_millicores)} CPU`}. A new instance count applies at once; a new memory or CPU limit makes a release and
        rolls it out. CPU is in cores (0.5) or millicores (500m); empty means no quota.
      </p>
      <ActionStatus state={action} onDismiss={action.clear} />
    </Section>
  );
}
