import { useState, type FormEvent } from 'react';
import type { CertificateView } from '@paas/contracts';
import { ActionStatus, ConfirmButton, PollError, Section, StateBadge, useNow } from '../../components/ui';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';

/** "in 89 d", "in 5 h", "expired". */
function untilText(iso: string | null, now: number): string {
  if (!iso) return '—';
  const days = (Date.parse(iso) - now) / 86_400_000;
  if (days < 0) return 'expired';
  return days < 1 ? `in ${Math.max(0, Math.round(days * 24))} h` : `in ${Math.floor(days)} d`;
}

/** The certificates the routers serve: source, state, names, issuer, expiry, last error; upload, order by ACME, delete. */
export function CertificatesSection() {
  const { api } = useSession();
  const certificates = usePoll('certificates', () => api.certificates(), 3_000);
  const action = useAction(certificates.refresh);
  const now = useNow(30_000);

  return (
    <Section title="Certificates" id="certificates">
      <PollError error={certificates.error} what="the certificates" />
      <ActionStatus state={action} onDismiss={action.clear} />
      {!certificates.data ? (
        <p className="muted" role="status">
          Loading certificates…
        </p>
      ) : certificates.data.length === 0 ? (
        <p className="empty">No certificates yet. Order one for a host below, or upload yours.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Certificates">
            <thead>
              <tr>
                <th scope="col">Names</th>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                <th scope="col">Issuer</th>
                <th scope="col">Expires</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {certificates.data.map((c: CertificateView) => (
                <tr key={c.id} data-certificate={c.names.join(',')} data-state={c.state}>
                  <th scope="row">{c.names.join(', ')}</th>
                  <td>{c.source}</td>
                  <td>
                    <StateBadge state={c.state} />
                  </td>
                  <td>{c.issuer ?? '—'}</td>
                  <td>
                    {c.not_after ? <time dateTime={c.not_after} title={new Date(c.not_after).toLocaleString()}>{untilText(c.not_after, now)}</time> : '—'}
                    {c.renews_at ? <span className="muted small"> (renews {untilText(c.renews_at, now)})</span> : null}
                  </td>
                  <td className="small">{c.last_error ?? ''}</td>
                  <td>
                    {c.source === 'platform' ? null : (
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete the certificate for ${c.names.join(', ')}`}
                        confirmLabel={`Delete the certificate for ${c.names[0] ?? c.id}`}
                        className="small-button"
                        disabled={action.busy}
                        onConfirm={() =>
                          void action.run(`Deleting the certificate for ${c.names.join(', ')}…`, async () => {
                            await api.deleteCertificate(c.id);
                            return `Deleted the certificate for ${c.names.join(', ')}: the routers stop serving it`;
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
      <RequestCertificate onDone={certificates.refresh} />
      <UploadCertificate onDone={certificates.refresh} />
    </Section>
  );
}

/** An ACME order for one host: the platform answers the HTTP-01 challenge through the router and renews it. */
function RequestCertificate({ onDone }: { onDone: () => void }) {
  const { api } = useSession();
  const [host, setHost] = useState('');
  const action = useAction(onDone);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = host.trim().toLowerCase();
    const ok = await action.run(`Ordering a certificate for ${wanted}…`, async () => {
      const cert = await api.requestCertificate([wanted]);
      return `Ordered a certificate for ${cert.names.join(', ')} (${cert.state}): the table shows when it is issued`;
    });
    if (ok) setHost('');
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Order a certificate">
      <label>
        <span>Host</span>
        <input value={host} onChange={(e) => setHost(e.target.value)} placeholder="www.shop.example.com" autoComplete="off" spellCheck={false} required />
      </label>
      <button type="submit" className="primary" disabled={action.busy}>
        Order by ACME
      </button>
      <ActionStatus state={action} onDismiss={action.clear} />
    </form>
  );
}

/** A certificate of your own: the PEM chain (leaf first) and its private key; the key is sealed and never shown again. */
function UploadCertificate({ onDone }: { onDone: () => void }) {
  const { api } = useSession();
  const [chain, setChain] = useState('');
  const [key, setKey] = useState('');
  const action = useAction(onDone);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await action.run('Uploading the certificate…', async () => {
      const cert = await api.uploadCertificate(chain, key);
      return `Uploaded the certificate for ${cert.names.join(', ')} (${cert.state})`;
    });
    // The key leaves the page once the API took it; a refused upload keeps both for a fix.
    if (ok) {
      setChain('');
      setKey('');
    }
  };
  return (
    <details className="card new-route">
      <summary>Upload a certificate</summary>
      <form className="stack-form" onSubmit={submit} aria-label="Upload a certificate">
        <label>
          <span>Certificate chain (PEM, leaf first)</span>
          <textarea value={chain} onChange={(e) => setChain(e.target.value)} rows={6} spellCheck={false} placeholder="-----BEGIN CERTIFICATE-----" required />
        </label>
        <label>
          <span>Private key (PEM)</span>
          <textarea value={key} onChange={(e) => setKey(e.target.value)} rows={4} spellCheck={false} autoComplete="off" placeholder="-----BEGIN PRIVATE KEY-----" required />
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Upload
        </button>
      </form>
      <p className="hint">The key is stored encrypted with the platform&apos;s key and never shown again.</p>
      <ActionStatus state={action} onDismiss={action.clear} />
    </details>
  );
}
