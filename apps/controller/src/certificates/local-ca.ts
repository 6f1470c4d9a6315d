import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { certificatePem, generateKey, importKey, issueCertificate, x509, type IssuingKey } from './x509-issue.util';

/** The local CA lives 10 years; its certificates 397 days (the longest browsers accept). */
const CA_VALIDITY_MS = 10 * 365 * 86_400_000;
export const LOCAL_CERT_VALIDITY_MS = 397 * 86_400_000;
/** Issued from an hour ago: clocks of clients drift. */
const BACKDATE_MS = 3_600_000;
/** How long a replica waits for the other one's ca.pem once the other took ca-key.pem. */
const PEER_WAIT_MS = 10_000;

export interface LocalCa {
  certificate: x509.X509Certificate;
  certificatePem: string;
  key: IssuingKey;
  /** Whether this call created it. */
  created: boolean;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function load(dir: string, created: boolean): Promise<LocalCa> {
  const certificatePemText = await readFile(join(dir, 'ca.pem'), 'utf8');
  const key = await importKey(await readFile(join(dir, 'ca-key.pem'), 'utf8'));
  return { certificate: new x509.X509Certificate(certificatePemText), certificatePem: certificatePemText, key, created };
}

/**
 * The local CA in `dir`: ca.pem and ca-key.pem (0600), made when missing: EC P-256, 10 years,
 * CN "PaaS local CA (<hostname>)". Idempotent, and safe when two controllers start at once on
 * one directory: each writes its own pair under a temporary name and links the key into place
 * (link fails when the name exists); the one that lost uses the winner's pair.
 */
export async function ensureLocalCa(dir: string, now = new Date()): Promise<LocalCa> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'ca-key.pem');
  const certPath = join(dir, 'ca.pem');
  if (await exists(keyPath)) {
    await waitFor(certPath, keyPath);
    return load(dir, false);
  }
  const key = await generateKey({ type: 'ec' });
  const subject = `CN=PaaS local CA (${hostname()})`;
  const certificate = await issueCertificate(key, { subject, ca: true, notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + CA_VALIDITY_MS) });
  const tag = randomBytes(6).toString('hex');
  const tmpKey = join(dir, `.ca-key.${tag}.pem`);
  const tmpCert = join(dir, `.ca.${tag}.pem`);
  try {
    await writeFile(tmpKey, key.keyPem, { mode: 0o600 });
    await writeFile(tmpCert, certificatePem(certificate), { mode: 0o644 });
    try {
      await link(tmpKey, keyPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await waitFor(certPath, keyPath);
      return load(dir, false);
    }
    await link(tmpCert, certPath);
  } finally {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
  }
  return load(dir, true);
}

async function waitFor(certPath: string, keyPath: string): Promise<void> {
  const deadline = Date.now() + PEER_WAIT_MS;
  while (!(await exists(certPath))) {
    if (Date.now() > deadline) {
      throw new Error(`PAAS_LOCAL_CA_DIR: ${keyPath} exists but ${certPath} does not: a start was interrupted; delete ${keyPath} (a new local CA is made) or put its ca.pem back`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A certificate for `names` issued by the local CA, valid 397 days from now; the key is new. */
export async function issueLocalCertificate(ca: LocalCa, names: string[], now = new Date()): Promise<{ chainPem: string; keyPem: string }> {
  const key = await generateKey({ type: 'ec' });
  const certificate = await issueCertificate(key, {
    subject: `CN=${names[0]}`,
    dnsNames: names,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + LOCAL_CERT_VALIDITY_MS),
    issuer: { certificate: ca.certificate, key: ca.key },
  });
  return { chainPem: certificatePem(certificate), keyPem: key.keyPem };
}
