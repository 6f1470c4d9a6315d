import type { AppView } from '@paas/contracts';
import { ActionStatus, Ago, ConfirmButton, PollError, Section, useNow } from '../../components/ui';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';

/** Numbered releases, newest first; roll back to any whose droplet is kept. */
export function ReleasesSection({ app, onChanged }: { app: AppView; onChanged: () => void }) {
  const { api } = useSession();
  const now = useNow(5_000);
  const releases = usePoll(`releases:${app.id}`, () => api.releases(app.id));
  const action = useAction(() => {
    releases.refresh();
    onChanged();
  });

  return (
    <Section title="Releases" id="releases">
      <PollError error={releases.error} what="the releases" />
      <ActionStatus state={action} onDismiss={action.clear} />
      {!releases.data ? (
        <p className="muted">Loading…</p>
      ) : releases.data.length === 0 ? (
        <p className="empty">No release yet: push the app.</p>
      ) : (
        <div className="table-wrap">
          <table className="releases-table">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {releases.data.slice(0, 20).map((r) => (
                <tr key={r.id} data-version={r.version} className={r.current ? 'current-row' : undefined}>
                  <th scope="row">
                    v{r.version}
                    {r.current ? <span className="badge badge-ok">current</span> : null}
                  </th>
                  <td>
                    {r.description}
                    {r.buildpack ? <div className="muted small">{r.buildpack}</div> : null}
                  </td>
                  <td>
                    <Ago iso={r.created_at} now={now} />
                  </td>
                  <td>
                    {r.current ? null : r.droplet_pruned ? (
                      <span className="muted small" title="its droplet was pruned (PAAS_RELEASES_KEPT)">
                        pruned
                      </span>
                    ) : (
                      <ConfirmButton
                        label={`Roll back to v${r.version}`}
                        confirmLabel={`Confirm rollback to v${r.version}`}
                        className="small-button"
                        disabled={action.busy}
                        onConfirm={() =>
                          void action.run(`Rolling back to v${r.version}…`, async () => {
                            const result = await api.rollback(app.id, r.version);
                            return `Rolled back to v${r.version}: release v${result.release_version} is rolling out`;
                          })
                        }
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
