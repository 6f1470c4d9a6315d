import type { LogStream } from '@paas/contracts';

type Data = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const list = (v: unknown): string => (Array.isArray(v) ? v.map(str).filter(Boolean).join(', ') : '');
const instance = (d: Data) => `instance ${str(d.index)} of ${str(d.process_type) || 'web'}`;

/** What changed, per event type; the actor is added by auditLogLine. Values of env vars never appear (events carry only names). */
const DESCRIBE: Record<string, (d: Data, target: string) => string> = {
  'app-created': (_d, t) => `Created app ${t}`,
  'app-renamed': (d) => `Renamed app from ${str(d.from)} to ${str(d.to)}`,
  'app-pushed': (d) => `Pushed commit ${str(d.commit).slice(0, 7)}: release v${str(d.release)}`,
  'app-env-changed': (d) => `Updated environment variables ${list(d.names) || '(none)'}`,
  'app-scaled': (d) => {
    const parts = [
      d.instances !== undefined ? `instances ${str(d.instances)}` : '',
      d.memory_mb !== undefined ? `memory ${str(d.memory_mb)} MB` : '',
      d.disk_mb !== undefined ? `disk ${str(d.disk_mb)} MB` : '',
      d.cpu_millicores === null ? 'no cpu quota' : d.cpu_millicores !== undefined ? `cpu ${str(d.cpu_millicores)}m` : '',
    ].filter(Boolean);
    return `Scaled ${str(d.process_type) || 'web'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
  },
  'process-updated': (d) => {
    const fields = Object.keys(d).filter((k) => k !== 'process_type');
    return `Updated process ${str(d.process_type)}${fields.length ? ` (${fields.join(', ')})` : ''}`;
  },
  'app-started': () => 'Started app',
  'app-stopped': () => 'Stopped app',
  'app-restarted': () => 'Restarted app',
  'app-rolled-back': (d) => `Rolled back to v${str(d.to_version)} (new release v${str(d.release)})`,
  'app-manifest-applied': (d) => `Applied ${str(d.file) || 'the manifest'}`,
  'route-mapped': (d) => `Mapped route ${str(d.url)} to ${str(d.process_type) || 'web'}`,
  'route-destination-updated': (d) => `Set the weight of ${str(d.process_type) || 'web'} on route ${str(d.url)} to ${str(d.weight) || 'equal'}`,
  'route-unmapped': (d) => `Unmapped route ${str(d.url)}${d.reason ? ` (${str(d.reason)})` : ''}`,
  'deploy-started': (d) => `Deployment of release v${str(d.release)} started`,
  'deploy-succeeded': (d) => `Deployment of release v${str(d.release)} succeeded`,
  'deploy-failed': (d) => `Deployment of release v${str(d.release)} failed${d.reason ? `: ${str(d.reason)}` : ''}`,
  'deploy-canceled': (d) => `Deployment of release v${str(d.release)} canceled`,
  'deploy-cancel-requested': () => 'Asked to cancel the running deployment',
  'instance-crashed': (d) => `App ${instance(d)} crashed${d.reason ? `: ${str(d.reason)}` : ''}`,
  'instance-lost': (d) => `App ${instance(d)} was lost with cell ${str(d.cell_id)}`,
};

/** Event types whose line goes to ERR. */
const FAILURES = new Set(['deploy-failed', 'instance-crashed', 'instance-lost']);

/**
 * The `API/0` line of an audit event about an app (CF's "Updated app with guid ..."): what
 * changed, and by whom unless the platform itself did it. Pure.
 */
export function auditLogLine(type: string, actorName: string, target: string, data: Data): { text: string; stream: LogStream } {
  const describe = DESCRIBE[type];
  const what = describe ? describe(data, target) : `${type.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase())}`;
  const by = actorName && actorName !== 'system' ? ` by ${actorName}` : '';
  return { text: `${what}${by}`, stream: FAILURES.has(type) ? 'ERR' : 'OUT' };
}
