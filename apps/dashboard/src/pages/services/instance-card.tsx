import type { ServiceInstanceView, ServiceUsageView } from '@paas/contracts';
import { ActionStatus, Ago, ConfirmButton, Meter, StateBadge, formatBytes, useNow } from '../../components/ui';
import { Link } from '../../router';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { BackupsPanel } from './backups-panel';
import { settledInstance } from './operations';

/**
 * One service instance: what it is, how its last operation went (live while in progress), its
 * server's status, the apps bound to it, its usage, its backups; delete it.
 */
export function InstanceCard({ instance, showSpace, onChanged }: { instance: ServiceInstanceView; showSpace: boolean; onChanged: () => void }) {
  const { api } = useSession();
  const now = useNow(5_000);
  const action = useAction(onChanged);
  const op = instance.last_operation;
  const busy = action.busy || op.state === 'in progress';
  const created = op.type !== 'create' || op.state === 'succeeded';

  const remove = () =>
    void action.run(`Deleting ${instance.name}…`, async () => {
      await api.deleteServiceInstance(instance.id);
      onChanged();
      await settledInstance(api, instance);
      return `Deleted ${instance.name}`;
    });

  return (
    <li className="card service-card" data-instance={instance.name} data-operation={`${op.type} ${op.state}`} data-status={instance.status ?? ''}>
      <div className="card-head">
        <h2>{instance.name}</h2>
        <div className="card-actions">
          {showSpace ? (
            <span className="muted small">
              space {instance.org_name} / {instance.space_name}
            </span>
          ) : null}
          <ConfirmButton
            label="Delete"
            confirmLabel={`Delete ${instance.name} and its data`}
            className="small-button"
            disabled={busy}
            onConfirm={remove}
          />
        </div>
      </div>
      <dl className="facts">
        <div>
          <dt>Type</dt>
          <dd>{instance.type}</dd>
        </div>
        <div>
          <dt>Offering</dt>
          <dd>
            {instance.offering}
            {instance.broker && instance.broker !== 'built-in' ? <span className="muted small"> from broker {instance.broker}</span> : null}
          </dd>
        </div>
        {instance.plan ? (
          <div>
            <dt>Plan</dt>
            <dd>{instance.plan}</dd>
          </div>
        ) : null}
        <div>
          <dt>Last operation</dt>
          <dd>
            {op.type} <StateBadge state={op.state} /> <Ago iso={op.updated_at} now={now} />
          </dd>
        </div>
        {instance.status ? (
          <div>
            <dt>Status</dt>
            <dd>
              <StateBadge state={instance.status} />
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Bound apps</dt>
          <dd>
            {instance.bound_apps.length === 0 ? (
              <span className="muted">none</span>
            ) : (
              <ul className="inline-list">
                {instance.bound_apps.map((app) => (
                  <li key={app}>
                    <Link to={`/apps/${encodeURIComponent(app)}`}>{app}</Link>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        {instance.dashboard_url ? (
          <div>
            <dt>Dashboard</dt>
            <dd>
              <a href={instance.dashboard_url} target="_blank" rel="noreferrer">
                {instance.dashboard_url}
              </a>
            </dd>
          </div>
        ) : null}
      </dl>
      {op.state === 'in progress' ? (
        <p className="status status-pending" role="status">
          <span className="spinner" aria-hidden="true" /> {op.type} in progress{op.description ? `: ${op.description}` : ''}
        </p>
      ) : op.state === 'failed' ? (
        <p className="status status-error">
          {op.type} failed: {op.description ?? 'no reason given'}
        </p>
      ) : null}
      {instance.status && instance.status !== 'available' && instance.status_reason ? <p className="reason">{instance.status_reason}</p> : null}
      {instance.usage ? <Usage name={instance.name} usage={instance.usage} now={now} /> : null}
      <ActionStatus state={action} onDismiss={action.clear} />
      {instance.type === 'managed' && created && op.type !== 'delete' ? <BackupsPanel instance={instance} action={action} /> : null}
    </li>
  );
}

function Usage({ name, usage, now }: { name: string; usage: ServiceUsageView; now: number }) {
  return (
    <div className="cell-meters" aria-label={`Usage of ${name}`} role="group">
      <span>Memory</span>
      <Meter
        label={`Memory of ${name}`}
        value={usage.memory_bytes ?? 0}
        max={usage.memory_bytes === null ? null : usage.memory_limit_bytes}
        text={`${usage.memory_bytes === null ? 'not reported' : formatBytes(usage.memory_bytes)} of ${formatBytes(usage.memory_limit_bytes)}`}
      />
      <span>Disk</span>
      <Meter
        label={`Disk of ${name}`}
        value={usage.disk_used_bytes ?? 0}
        max={usage.disk_used_bytes === null ? null : usage.disk_limit_bytes}
        text={`${usage.disk_used_bytes === null ? 'not reported' : formatBytes(usage.disk_used_bytes)} of ${formatBytes(usage.disk_limit_bytes)}`}
      />
      <span>Connections</span>
      <span className="meter-text">
        {usage.connections ?? 'not reported'} <span className="muted small">(reported <Ago iso={usage.reported_at} now={now} />)</span>
      </span>
    </div>
  );
}
