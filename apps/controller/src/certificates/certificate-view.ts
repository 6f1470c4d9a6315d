import type { CertificateSource, CertificateState, CertificateView } from '@paas/contracts';
import type { Certificate } from './certificates.repository';

/** When the platform renews a certificate it manages (ACME, platform); null for uploads. */
export function renewsAt(cert: Pick<Certificate, 'source' | 'notAfter'>, renewBeforeMs: number): Date | null {
  if (cert.source === 'upload' || !cert.notAfter) return null;
  return new Date(cert.notAfter.getTime() - renewBeforeMs);
}

/** The API view (certificateViewSchema): never the key, sealed or not, nor the chain. */
export function certificateView(cert: Certificate, renewBeforeMs: number): CertificateView {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: cert.id,
    org_id: cert.orgId,
    source: cert.source as CertificateSource,
    state: cert.state as CertificateState,
    names: cert.names,
    issuer: cert.issuer,
    not_before: iso(cert.notBefore),
    not_after: iso(cert.notAfter),
    renews_at: iso(renewsAt(cert, renewBeforeMs)),
    last_error: cert.lastError,
    next_attempt_at: iso(cert.nextAttemptAt),
    attempts: cert.attempts,
    created_at: cert.createdAt.toISOString(),
    updated_at: cert.updatedAt.toISOString(),
  };
}
