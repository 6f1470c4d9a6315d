import { useEffect } from 'react';
import { CertificatesSection } from './domains/certificates-section';
import { DomainsSection } from './domains/domains-section';

/**
 * Domains and certificates (docs/https.md): the shared domains and the private ones of your
 * orgs with their verification state, adding and verifying a private domain; the certificates
 * the routers serve with their state, issuer, expiry and last error, uploading one, ordering one
 * by ACME, deleting one.
 */
export function DomainsPage() {
  useEffect(() => {
    document.title = 'Domains · paas';
  }, []);
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Domains &amp; certificates</h1>
      </div>
      <DomainsSection />
      <CertificatesSection />
    </>
  );
}
