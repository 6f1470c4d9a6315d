import { useState, type FormEvent } from 'react';
import type { AppView } from '@paas/contracts';
import { ActionStatus, Ago, ConfirmButton, PollError, Section, useNow } from '../../components/ui';
import { Link } from '../../router';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';

/** What a bind or unbind rolled out. */
function rollout(release: number | null): string {
  return release ? `release v${release} is rolling out` : 'the app has no release yet: its next push gets it';
}

/** The service instances bound to this app (their credentials are in its containers' VCAP_SERVICES); bind one of its space, unbind. */
export function ServicesSection({ app, onChanged }: { app: AppView; onChanged: () => void }) {
  const { api } = useSession();
  const now = useNow(5_000);
  const data = usePoll(`app-services:${app.id}`, async () => {
    const [bindings, instances] = await Promise.all([api.serviceBindings(app.id), api.serviceInstances({ spaceId: app.space_id })]);
    return { bindings, instances };
  });
  const action = useAction(() => {
    data.refresh();
    onChanged();
  });
  const [chosen, setChosen] = useState('');
  const bound = new Set(data.data?.bindings.map((b) => b.service_instance_id));
  // Only instances whose create succeeded can be bound; the others are listed as not ready.
  const candidates = (data.data?.instances ?? []).filter((i) => !bound.has(i.id));
  const ready = candidates.filter((i) => i.last_operation.type !== 'delete' && !(i.last_operation.type === 'create' && i.last_operation.state !== 'succeeded'));
  const instanceId = ready.some((i) => i.id === chosen) ? chosen : ready[0]?.id ?? '';

  const bind = async (event: FormEvent) => {
    event.preventDefault();
    const instance = ready.find((i) => i.id === instanceId);
    if (!instance) return;
    await action.run(`Binding ${instance.name} to ${app.name}…`, async () => {
      const result = await api.bindService(app.id, instance.id);
      return `Bound ${instance.name} to ${app.name}: ${rollout(result.release_version)}`;
    });
  };

  return (
    <Section title="Services" id="services">
      <PollError error={data.error} what="the service bindings" />
      {!data.data ? (
        <p className="muted">Loading…</p>
      ) : data.data.bindings.length === 0 ? (
        <p className="empty">No service bound. Bind one of the space's instances below.</p>
      ) : (
        <ul className="route-list">
          {data.data.bindings.map((b) => (
            <li key={b.id} data-binding={b.service_instance_name}>
              <span>
                <Link to="/services">{b.service_instance_name}</Link> <span className="muted small">{b.offering}, bound <Ago iso={b.created_at} now={now} /></span>
              </span>
              <ConfirmButton
                label="Unbind"
                confirmLabel={`Unbind ${b.service_instance_name} from ${app.name}`}
                className="small-button"
                disabled={action.busy}
                onConfirm={() =>
                  void action.run(`Unbinding ${b.service_instance_name} from ${app.name}…`, async () => {
                    const result = await api.unbindService(app.id, b.service_instance_id);
                    return `Unbound ${b.service_instance_name} from ${app.name}: ${rollout(result.release_version)}`;
                  })
                }
              />
            </li>
          ))}
        </ul>
      )}
      {data.data && candidates.length > 0 ? (
        <form className="map-form" onSubmit={bind} aria-label="Bind a service">
          <label>
            <span>Service instance</span>
            <select value={instanceId} onChange={(e) => setChosen(e.target.value)} disabled={ready.length === 0}>
              {candidates.map((i) => (
                <option key={i.id} value={i.id} disabled={!ready.includes(i)}>
                  {i.name} ({i.offering}
                  {i.plan ? ` ${i.plan}` : ''}){ready.includes(i) ? '' : `: ${i.last_operation.type} ${i.last_operation.state}`}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={action.busy || !instanceId}>
            Bind service
          </button>
        </form>
      ) : data.data ? (
        <p className="hint">
          {data.data.instances.length === 0 ? 'The space has no service instance: create one on the ' : 'Every instance of the space is bound. Create another on the '}
          <Link to="/services">Services</Link> page.
        </p>
      ) : null}
      <ActionStatus state={action} onDismiss={action.clear} />
    </Section>
  );
}
