import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { certificateNames, distinguishedName, issuedBy, pemBlocks, servedChain, trustedPublicRoots } from './certificate-pem.util';

/** What an uploaded certificate is, once it passed every check. */
export interface CheckedCertificate {
  /** Leaf first, then intermediates (a trailing self-signed root dropped). */
  chainPem: string;
  /** The private key, PKCS#8 PEM (to be sealed). */
  keyPem: string;
  names: string[];
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

const MIN_RSA_BITS = 2048;

function refuse(code: ErrorCode, message: string, details?: unknown): DomainException {
  return new DomainException(code, message, details);
}

function parseKey(keyPem: string): KeyObject {
  if (/ENCRYPTED/.test(keyPem)) {
    throw refuse(ErrorCode.CertificateUnreadable, 'private_key is encrypted: upload it without a passphrase (openssl pkey -in key.pem -out key-plain.pem)');
  }
  try {
    return createPrivateKey(keyPem);
  } catch {
    throw refuse(ErrorCode.CertificateUnreadable, 'private_key is not a PEM private key: give the key file (-----BEGIN PRIVATE KEY----- …), not the certificate');
  }
}

function parseChain(chainText: string): X509Certificate[] {
  if (/PRIVATE KEY-----/.test(chainText)) {
    throw refuse(ErrorCode.CertificateUnreadable, 'certificate_chain holds a private key: give only certificates there, and the key in private_key');
  }
  const blocks = pemBlocks(chainText);
  if (!blocks.length) {
    throw refuse(ErrorCode.CertificateUnreadable, 'certificate_chain holds no PEM certificate: give the certificate (-----BEGIN CERTIFICATE----- …), then its intermediates');
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw refuse(ErrorCode.CertificateUnreadable, `certificate ${i + 1} of certificate_chain is not a valid PEM certificate: check it was copied whole`);
    }
  });
}

function subjectOf(cert: X509Certificate): string {
  return distinguishedName(cert.subject) || '(no subject)';
}

/** Each certificate signed by the next; the last a self-signed root or issued by a trusted one. */
function checkChain(certs: X509Certificate[], extraRoots: X509Certificate[]): void {
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!issuedBy(certs[i]!, certs[i + 1]!)) {
      throw refuse(
        ErrorCode.CertificateChainIncomplete,
        `certificate ${i + 1} (${subjectOf(certs[i]!)}) is not signed by certificate ${i + 2} (${subjectOf(certs[i + 1]!)}): put the chain in order, the certificate first and each one followed by its issuer`,
      );
    }
  }
  const last = certs[certs.length - 1]!;
  if (issuedBy(last, last)) return;
  if ([...extraRoots, ...trustedPublicRoots()].some((root) => issuedBy(last, root))) return;
  throw refuse(
    ErrorCode.CertificateChainIncomplete,
    `the chain ends at ${subjectOf(last)}, issued by ${distinguishedName(last.issuer)}, which is not a root the platform trusts: add the intermediate certificate(s) up to a root after the certificate (your CA's "full chain", e.g. fullchain.pem)`,
  );
}

function checkDates(certs: X509Certificate[], now: Date): void {
  certs.forEach((cert, i) => {
    const which = i === 0 ? 'the certificate' : `certificate ${i + 1} of the chain (${subjectOf(cert)})`;
    if (now < cert.validFromDate) {
      throw refuse(ErrorCode.CertificateNotYetValid, `${which} is not valid before ${cert.validFromDate.toISOString()}: upload it from then on, or check the clock of whoever issued it`);
    }
    if (now >= cert.validToDate) {
      throw refuse(ErrorCode.CertificateExpired, `${which} expired at ${cert.validToDate.toISOString()}: renew it with your CA and upload the new one`);
    }
  });
}

function checkKeyStrength(key: KeyObject): void {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && (bits ?? 0) < MIN_RSA_BITS) {
    throw refuse(ErrorCode.CertificateWeakKey, `the key is RSA ${bits ?? '?'} bits: browsers refuse RSA under ${MIN_RSA_BITS} bits; issue the certificate with an RSA 2048 (or EC P-256) key`);
  }
}

/**
 * Checks an upload (createCertificateRequestSchema `upload`): both parse, the key is the leaf's,
 * the chain is complete to a root (a self-signed last certificate, one of node's public roots, or
 * one of `extraRoots` such as the local CA), every certificate is valid at `now`, the key is
 * strong enough. Throws a DomainException (422) naming what is wrong and the fix. The names are
 * checked against the org's domains by the caller.
 */
export function checkUpload(chainText: string, keyPem: string, now: Date, extraRoots: X509Certificate[] = []): CheckedCertificate {
  const certs = parseChain(chainText);
  const key = parseKey(keyPem);
  const leaf = certs[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw refuse(ErrorCode.CertificateKeyMismatch, 'private_key is not the key of the certificate (the first of certificate_chain): upload the key the certificate was issued for');
  }
  checkKeyStrength(key);
  checkChain(certs, extraRoots);
  checkDates(certs, now);
  const names = certificateNames(leaf);
  if (!names.length) throw refuse(ErrorCode.CertificateNameRefused, 'the certificate names no host (no DNS subjectAltName, no common name): issue it for the hosts it must serve');
  return {
    chainPem: servedChain(certs),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    names,
    issuer: distinguishedName(leaf.issuer),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
  };
}
