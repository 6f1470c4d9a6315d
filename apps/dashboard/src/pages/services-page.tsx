import { useEffect, useState, type FormEvent } from 'react';
import type { ServiceOfferingView } from '@paas/contracts';
import { ActionStatus, PollError } from '../components/ui';
import { scopeKey, useScope, useSession } from '../session';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';
import { FromBackupField } from './services/from-backup-field';
import { InstanceCard } from './services/instance-card';

/**
 * The backing-service instances of the chosen org/space: type, offering and plan, last operation,
 * status, bound apps, usage, backups (back up now, restore); create one from the marketplace;
 * delete one.
 */
export function ServicesPage() {
  const { api } = useSession();
  const scope = useScope();
  const data = usePoll(`services:${scopeKey(scope)}`, async () => {
    const one = scope.spaceIds?.length === 1 ? scope.spaceIds[0] : undefined;
    const all = await api.serviceInstances(one ? { spaceId: one } : {});
    return scope.spaceIds ? all.filter((i) => scope.spaceIds!.includes(i.space_id)) : all;
  });
  useEffect(() => {
    document.title = 'Services · paas';
  }, []);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Services</h1>
      </div>
      <NewServiceInstance onCreated={data.refresh} />
      <PollError error={data.error} what="the service instances" />
      {!data.data ? (
        <p className="muted" role="status">
          Loading service instances…
        </p>
      ) : data.data.length === 0 ? (
        <p className="empty">No service instances here. Create one above, then bind it to an app from the app's page.</p>
      ) : (
        <ul className="route-cards">
          {data.data.map((instance) => (
            <InstanceCard key={instance.id} instance={instance} showSpace={!scope.spaceId} onChanged={data.refresh} />
          ))}
        </ul>
      )}
    </>
  );
}

/** The marketplace (GET /v1/service_offerings) as a form: offering, plan, name, space. */
function NewServiceInstance({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const scope = useScope();
  const offerings = usePoll('service-offerings', () => api.serviceOfferings(), 60_000);
  const [offeringName, setOfferingName] = useState('');
  const [planName, setPlanName] = useState('');
  const [name, setName] = useState('');
  const [spaceId, setSpaceId] = useState('');
  const [fromBackup, setFromBackup] = useState('');
  const [open, setOpen] = useState(false);
  const action = useAction(onCreated);
  const spaces = scope.spaces.filter((s) => !scope.orgId || s.org_id === scope.orgId);
  const chosenSpace = scope.spaceId || spaceId || spaces[0]?.id || '';
  const list: ServiceOfferingView[] = offerings.data ?? [];
  const offering = list.find((o) => o.name === offeringName) ?? list[0];
  const plan = offering?.plans.find((p) => p.name === planName) ?? offering?.plans[0];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!offering || !plan) return;
    const wanted = name.trim();
    const ok = await action.run(`Creating ${wanted}…`, async () => {
      const instance = await api.createServiceInstance({
        name: wanted,
        offering: offering.name,
        plan: plan.name,
        space_id: chosenSpace || undefined,
        ...(fromBackup ? { restore_from_backup: fromBackup } : {}),
      });
      const data = fromBackup ? ' with the data of the chosen backup' : '';
      return `Creating ${instance.name} (${instance.offering} ${instance.plan}) in ${instance.org_name} / ${instance.space_name}${data}: its card below shows when it is ready`;
    });
    if (ok) {
      setName('');
      setFromBackup('');
    }
  };

  return (
    <details className="card new-route new-service" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>New service instance</summary>
      <PollError error={offerings.error} what="the marketplace" />
      <form className="inline-form" onSubmit={submit} aria-label="New service instance">
        <label>
          <span>Offering</span>
          <select value={offering?.name ?? ''} onChange={(e) => { setOfferingName(e.target.value); setPlanName(''); setFromBackup(''); }}>
            {list.map((o) => (
              <option key={`${o.broker}/${o.name}`} value={o.name}>
                {o.name}
                {o.broker !== 'built-in' ? ` (${o.broker})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Plan</span>
          <select value={plan?.name ?? ''} onChange={(e) => setPlanName(e.target.value)}>
            {(offering?.plans ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}: {p.description}
                {p.free ? '' : ' (not free)'}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="my-db" autoComplete="off" spellCheck={false} required />
        </label>
        {scope.spaceId ? null : (
          <label>
            <span>Space</span>
            <select value={chosenSpace} onChange={(e) => setSpaceId(e.target.value)}>
              {spaces.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.org_name} / {s.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {open && offering && chosenSpace ? <FromBackupField offering={offering.name} spaceId={chosenSpace} value={fromBackup} onChange={setFromBackup} /> : null}
        <button type="submit" className="primary" disabled={action.busy || !offering || !plan}>
          Create service
        </button>
      </form>
      {offering ? <p className="hint">{offering.description} (version {offering.version})</p> : null}
      <ActionStatus state={action} onDismiss={action.clear} />
    </details>
  );
}
