import { useState, type FormEvent } from 'react';
import type { DomainView } from '@paas/contracts';
import { ActionStatus, ConfirmButton, PollError, Section, StateBadge } from '../../components/ui';
import { useScope, useSession } from '../../session';
import { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';

/** The domains you may use, each with its state; add a private domain to an org; verify or delete one. */
export function DomainsSection() {
  const { api } = useSession();
  const scope = useScope();
  const domains = usePoll('domains', () => api.domains(), 5_000);
  const orgName = (id: string | null) => (id ? (scope.orgs.find((o) => o.id === id)?.name ?? id.slice(0, 8)) : 'shared');
  const shown = (domains.data ?? []).filter((d) => !scope.orgId || !d.org_id || d.org_id === scope.orgId);

  return (
    <Section title="Domains" id="domains">
      <PollError error={domains.error} what="the domains" />
      {!domains.data ? (
        <p className="muted" role="status">
          Loading domains…
        </p>
      ) : (
        <ul className="route-cards">
          {shown.map((domain) => (
            <DomainCard key={domain.id} domain={domain} owner={orgName(domain.org_id)} onChanged={domains.refresh} />
          ))}
        </ul>
      )}
      <NewPrivateDomain onCreated={domains.refresh} />
    </Section>
  );
}

/** How to prove control of a pending domain: the HTTP URL and token, the TXT record when DNS verification is on. */
function VerificationSteps({ domain }: { domain: DomainView }) {
  const v = domain.verification;
  return (
    <dl className="facts" aria-label={`How to verify ${domain.name}`}>
      {v.http_url ? (
        <div>
          <dt>HTTP</dt>
          <dd>
            Point {domain.name} at the platform&apos;s router: it then serves <code>{v.http_url}</code>
          </dd>
        </div>
      ) : null}
      {v.token ? (
        <div>
          <dt>Token</dt>
          <dd>
            <code>{v.token}</code>
          </dd>
        </div>
      ) : null}
      {v.dns_record ? (
        <div>
          <dt>DNS</dt>
          <dd>
            <code>
              {v.dns_record.name} {v.dns_record.type} &quot;{v.dns_record.value}&quot;
            </code>
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

function DomainCard({ domain, owner, onChanged }: { domain: DomainView; owner: string; onChanged: () => void }) {
  const { api } = useSession();
  const action = useAction(onChanged);
  const v = domain.verification;
  const verify = (method: 'http' | 'dns') =>
    void action.run(`Verifying ${domain.name}${method === 'dns' ? ' by DNS' : ''}…`, async () => {
      const checked = await api.verifyDomain(domain.id, method);
      if (checked.verification.state !== 'verified') throw new Error(`${domain.name} is not verified: ${checked.verification.last_error ?? 'no reason given'}`);
      return `Verified ${domain.name}: map routes on it from an app's page`;
    });

  return (
    <li className="card route-card" data-domain={domain.name} data-state={v.state}>
      <div className="card-head">
        <h2>{domain.name}</h2>
        <div className="card-actions">
          <StateBadge state={v.state} />
          <span className="muted small">
            {domain.shared ? 'shared' : `org ${owner}`}
            {domain.default ? ' (default)' : ''}
          </span>
          {v.state === 'pending' ? (
            <>
              <button type="button" className="small-button" disabled={action.busy} onClick={() => verify('http')}>
                Verify
              </button>
              {v.dns_record ? (
                <button type="button" className="small-button" disabled={action.busy} onClick={() => verify('dns')}>
                  Verify by DNS
                </button>
              ) : null}
            </>
          ) : null}
          {domain.default ? null : (
            <ConfirmButton
              label="Delete"
              ariaLabel={`Delete ${domain.name}`}
              confirmLabel={`Delete ${domain.name}`}
              className="small-button"
              disabled={action.busy}
              onConfirm={() =>
                void action.run(`Deleting ${domain.name}…`, async () => {
                  await api.deleteDomain(domain.id);
                  return `Deleted ${domain.name}`;
                })
              }
            />
          )}
        </div>
      </div>
      {v.state === 'pending' ? <VerificationSteps domain={domain} /> : null}
      {v.state === 'pending' && v.last_error ? (
        <p className="status status-error">Last check: {v.last_error}</p>
      ) : null}
      <ActionStatus state={action} onDismiss={action.clear} />
    </li>
  );
}

/** A private domain for one of your orgs (its org managers may add one); it shows how to verify it once created. */
function NewPrivateDomain({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const scope = useScope();
  const [name, setName] = useState('');
  const [orgId, setOrgId] = useState('');
  const [created, setCreated] = useState<DomainView | undefined>();
  const action = useAction(onCreated);
  const chosenOrg = scope.orgId || orgId || scope.orgs[0]?.id || '';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = name.trim().toLowerCase();
    setCreated(undefined);
    const ok = await action.run(`Adding ${wanted}…`, async () => {
      const domain = await api.createDomain({ name: wanted, org_id: chosenOrg });
      setCreated(domain);
      return `Added ${domain.name} (${domain.verification.state}): prove that you control it, then press Verify`;
    });
    if (ok) setName('');
  };

  return (
    <details className="card new-route">
      <summary>Add a private domain</summary>
      <form className="inline-form" onSubmit={submit} aria-label="Add a private domain">
        <label>
          <span>Domain</span>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="shop.example.com" autoComplete="off" spellCheck={false} required />
        </label>
        {scope.orgId ? null : (
          <label>
            <span>Org</span>
            <select value={chosenOrg} onChange={(e) => setOrgId(e.target.value)}>
              {scope.orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit" className="primary" disabled={action.busy || !chosenOrg}>
          Add domain
        </button>
      </form>
      <p className="hint">The domain takes routes and certificates once verified: by an HTTP token the router serves, or a DNS TXT record.</p>
      <ActionStatus state={action} onDismiss={action.clear} />
      {created && created.verification.state === 'pending' ? <VerificationSteps domain={created} /> : null}
    </details>
  );
}
