import { rootCertificates } from 'node:tls';
import { X509Certificate } from 'node:crypto';

/** Reading certificates: PEM blocks, names, issuer, trusted roots. Pure, no I/O. */

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of a text, in order (anything between them is ignored). */
export function pemBlocks(text: string): string[] {
  return text.match(PEM_CERT) ?? [];
}

/** `CN=Leaf, O=Org, C=US` (RFC 4514 order: most specific first) of node's line-per-attribute form. */
export function distinguishedName(nodeForm: string): string {
  return nodeForm.split('\n').filter(Boolean).reverse().join(', ');
}

function commonName(nodeForm: string): string | undefined {
  return nodeForm.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
}

/** Hosts a certificate covers: its DNS subjectAltNames, or its common name when it has none; lowercase, unique. */
export function certificateNames(cert: X509Certificate): string[] {
  const sans = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).trim().toLowerCase())
    .filter(Boolean);
  const names = sans.length ? sans : [commonName(cert.subject)?.toLowerCase()].filter((n): n is string => !!n);
  return [...new Set(names)];
}

/** Whether `cert` is signed by `issuer` (names and signature). */
export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

let publicRoots: X509Certificate[] | undefined;

/** Node's bundled public roots (Mozilla's), parsed once. */
export function trustedPublicRoots(): X509Certificate[] {
  publicRoots ??= rootCertificates.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return publicRoots;
}

/** A leaf's PEM chain (leaf first) from acme-client's or an uploader's text, without a trailing self-signed root. */
export function servedChain(certs: X509Certificate[]): string {
  const last = certs[certs.length - 1];
  const kept = certs.length > 1 && last && issuedBy(last, last) ? certs.slice(0, -1) : certs;
  return kept.map((c) => c.toString().trim()).join('\n') + '\n';
}
