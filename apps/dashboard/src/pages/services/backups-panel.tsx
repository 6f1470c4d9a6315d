import type { ServiceBackupView, ServiceInstanceView } from '@paas/contracts';
import { Ago, ConfirmButton, PollError, StateBadge, formatBytes, useNow } from '../../components/ui';
import { useSession } from '../../session';
import type { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';
import { backupsOf, formatMs, settledBackup, settledInstance } from './operations';

/** The newest backups shown per instance. */
const SHOWN = 10;

/**
 * A managed instance's backups, newest first (trigger, state, size, when, how long, why one
 * failed); **Back up now**, and **Restore** of a succeeded one, confirmed because it replaces the
 * instance's current data. Both wait for the operation to end and say how it went, in the card's
 * status line (the card's own action, so nothing else runs on the instance meanwhile).
 */
export function BackupsPanel({ instance, action }: { instance: ServiceInstanceView; action: ReturnType<typeof useAction> }) {
  const { api, apiUrl } = useSession();
  const now = useNow(5_000);
  const backups = usePoll(
    `backups:${instance.id}`,
    () => backupsOf(api, apiUrl, instance.id),
    5_000,
  );
  const headingId = `backups-${instance.id}`;
  const busy = action.busy || instance.last_operation.state === 'in progress';

  if (backups.data === 'unsupported') {
    return (
      <section className="backups" aria-labelledby={headingId}>
        <h3 id={headingId}>Backups</h3>
        <p className="muted">Backups are not available on this platform (its API has no backups endpoint).</p>
      </section>
    );
  }

  const backUp = () =>
    void action.run(`Backing up ${instance.name}…`, async () => {
      const started = await api.createServiceBackup(instance.id);
      backups.refresh();
      const done = await settledBackup(api, instance.id, started.id).finally(backups.refresh);
      return `Backed up ${instance.name}: ${done.size_bytes === null ? 'size unknown' : formatBytes(done.size_bytes)}${done.duration_ms === null ? '' : ` in ${formatMs(done.duration_ms)}`}`;
    });

  const restore = (backup: ServiceBackupView) =>
    void action.run(`Restoring ${instance.name} from the backup of ${new Date(backup.created_at).toLocaleString()}…`, async () => {
      await api.restoreServiceBackup(instance.id, backup.id);
      await settledInstance(api, instance);
      return `Restored ${instance.name} from the backup of ${new Date(backup.created_at).toLocaleString()}`;
    });

  const list = backups.data ?? [];
  return (
    <section className="backups" aria-labelledby={headingId}>
      <div className="card-head">
        <h3 id={headingId}>Backups</h3>
        <button type="button" className="small-button" disabled={busy} onClick={backUp}>
          Back up now
        </button>
      </div>
      <PollError error={backups.error} what="the backups" />
      {!backups.data ? (
        <p className="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p className="empty">No backup yet: the daily pass makes one, or back up now.</p>
      ) : (
        <div className="table-wrap">
          <table className="backups-table">
            <caption className="visually-hidden">Backups of {instance.name}</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Trigger</th>
                <th scope="col">State</th>
                <th scope="col">Size</th>
                <th scope="col">Took</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.slice(0, SHOWN).map((b) => (
                <tr key={b.id} data-backup={b.id} data-state={b.state}>
                  <th scope="row">
                    <Ago iso={b.created_at} now={now} />
                  </th>
                  <td>{b.trigger}</td>
                  <td>
                    <StateBadge state={b.state} />
                    {b.error ? <div className="reason">{b.error}</div> : null}
                  </td>
                  <td>{b.size_bytes === null ? <span className="muted">—</span> : formatBytes(b.size_bytes)}</td>
                  <td>{b.duration_ms === null ? <span className="muted">—</span> : formatMs(b.duration_ms)}</td>
                  <td>
                    {b.state === 'succeeded' ? (
                      <ConfirmButton
                        label="Restore"
                        ariaLabel={`Restore the backup of ${new Date(b.created_at).toLocaleString()}`}
                        confirmLabel={`Replace the current data of ${instance.name} with this backup`}
                        className="small-button"
                        disabled={busy}
                        onConfirm={() => restore(b)}
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.length > SHOWN ? <p className="muted small">and {list.length - SHOWN} older ones (the CLI lists them all)</p> : null}
        </div>
      )}
    </section>
  );
}
