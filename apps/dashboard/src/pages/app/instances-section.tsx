import { describeCounts, type InstanceCounts, type InstanceView } from '@paas/contracts';
import { Meter, Section, StateBadge, formatBytes, formatDuration, formatMb, useNow } from '../../components/ui';

const MB = 1024 * 1024;

/**
 * Each instance: index, state (STOPPING ones with why), release, cell, uptime, CPU/memory/disk
 * against its limits, crashes and why; above them, per process type, how many run of how many
 * desired (STOPPING ones are not running).
 */
export function InstancesSection({ instances, summary }: { instances: InstanceView[]; summary: InstanceCounts[] }) {
  const now = useNow(1_000);
  const types = new Set(instances.map((i) => i.process_type));
  return (
    <Section title="Instances" id="instances">
      {summary.some((c) => c.desired > 0 || c.running + c.starting + c.stopping + c.crashed + c.unplaced > 0) ? (
        <ul className="inline-list instance-counts">
          {summary.map((c) => (
            <li key={c.process_type} data-process={c.process_type} className={c.running < c.desired ? 'warn-text' : undefined}>
              {c.process_type}: {describeCounts(c)}
            </li>
          ))}
        </ul>
      ) : null}
      {instances.length === 0 ? (
        <p className="empty">No instances: the app is stopped, scaled to 0, or not pushed yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="instances-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">State</th>
                <th scope="col">Release</th>
                <th scope="col">Cell</th>
                <th scope="col">Uptime</th>
                <th scope="col">CPU</th>
                <th scope="col">Memory</th>
                <th scope="col">Disk</th>
                <th scope="col">Crashes</th>
              </tr>
            </thead>
            <tbody>
              {instances.map((i) => {
                // Uptime advances between polls: count from `since` while RUNNING.
                const uptime = i.state === 'RUNNING' && i.since ? Math.max(i.uptime_s, (now - Date.parse(i.since)) / 1000) : i.uptime_s;
                const usage = i.usage;
                return (
                  <tr key={`${i.process_type}:${i.index}:${i.instance_id}`} data-state={i.state} data-cell={i.cell_id}>
                    <th scope="row">
                      {types.size > 1 ? `${i.process_type}/` : ''}
                      {i.index}
                    </th>
                    <td>
                      <StateBadge state={i.state} />
                      {i.unplaced_reason ? <div className="bad-text small">{i.unplaced_reason}</div> : null}
                      {i.state === 'STOPPING' && i.stop_reason ? <div className="muted small stop-reason">{i.stop_reason}</div> : null}
                    </td>
                    <td>{i.release_version === null ? <span className="muted">—</span> : `v${i.release_version}`}</td>
                    <td>{i.cell_id || <span className="muted">—</span>}</td>
                    <td>{i.state === 'RUNNING' ? formatDuration(uptime) : <span className="muted">—</span>}</td>
                    <td className="meter-cell">
                      {usage ? <Meter label={`CPU of instance ${i.index}`} value={usage.cpu_percent} max={100} text={`${usage.cpu_percent.toFixed(1)}%`} /> : <span className="muted">—</span>}
                    </td>
                    <td className="meter-cell">
                      {usage ? (
                        <Meter
                          label={`Memory of instance ${i.index}`}
                          value={usage.memory_bytes / MB}
                          max={i.memory_limit_mb}
                          text={`${formatBytes(usage.memory_bytes)}${i.memory_limit_mb ? ` / ${formatMb(i.memory_limit_mb)}` : ''}`}
                        />
                      ) : i.memory_limit_mb ? (
                        <span className="muted">— / {formatMb(i.memory_limit_mb)}</span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="meter-cell">
                      {usage ? (
                        <Meter
                          label={`Disk of instance ${i.index}`}
                          value={usage.disk_bytes / MB}
                          max={i.disk_limit_mb}
                          text={`${formatBytes(usage.disk_bytes)}${i.disk_limit_mb ? ` / ${formatMb(i.disk_limit_mb)}` : ''}`}
                        />
                      ) : i.disk_limit_mb ? (
                        <span className="muted">— / {formatMb(i.disk_limit_mb)}</span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      {i.crash_count > 0 ? (
                        <>
                          <span className="bad-text">{i.crash_count}</span>
                          {i.last_crash_reason ? <div className="small crash-reason">{i.last_crash_reason}</div> : null}
                        </>
                      ) : (
                        '0'
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
