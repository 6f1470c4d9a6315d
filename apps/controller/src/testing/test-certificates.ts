/** Certificates for tests: a root, an intermediate and leaves, made with the controller's own issuing code. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';
import { certificatePem, generateKey, issueCertificate, type IssuingKey, type KeySpec } from '../certificates/x509-issue.util';
import type { x509 } from '../certificates/x509-issue.util';

const DAY = 86_400_000;

export interface TestCa {
  certificate: x509.X509Certificate;
  key: IssuingKey;
  pem: string;
}

/** A self-signed root CA. */
export async function testRoot(name = 'Test Root CA'): Promise<TestCa> {
  const key = await generateKey();
  const certificate = await issueCertificate(key, { subject: `CN=${name}`, ca: true, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 3650 * DAY) });
  return { certificate, key, pem: certificatePem(certificate) };
}

/** An intermediate CA under `issuer`. */
export async function testIntermediate(issuer: TestCa, name = 'Test Intermediate CA'): Promise<TestCa> {
  const key = await generateKey();
  const certificate = await issueCertificate(key, {
    subject: `CN=${name}`,
    ca: true,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 1825 * DAY),
    issuer: { certificate: issuer.certificate, key: issuer.key },
  });
  return { certificate, key, pem: certificatePem(certificate) };
}

/** A leaf for `names` (SANs; none with `cnOnly`) under `issuer`, valid from/to the given offsets in days. */
export async function testLeaf(
  issuer: TestCa,
  names: string[],
  options: { fromDays?: number; toDays?: number; key?: KeySpec; cnOnly?: boolean } = {},
): Promise<{ pem: string; keyPem: string }> {
  const key = await generateKey(options.key ?? { type: 'ec' });
  const certificate = await issueCertificate(key, {
    subject: `CN=${names[0]}`,
    dnsNames: options.cnOnly ? undefined : names,
    notBefore: new Date(Date.now() + (options.fromDays ?? -1) * DAY),
    notAfter: new Date(Date.now() + (options.toDays ?? 90) * DAY),
    issuer: { certificate: issuer.certificate, key: issuer.key },
  });
  return { pem: certificatePem(certificate), keyPem: key.keyPem };
}

/** A platform secret key file (32 random bytes, base64) in `dir`; returns its path and the key. */
export async function writeSecretKey(dir: string): Promise<{ file: string; key: Buffer }> {
  const key = randomBytes(32);
  const file = join(dir, 'secret-key');
  await writeFile(file, key.toString('base64'), { mode: 0o600 });
  return { file, key };
}

/** A domain row as the domains part makes them: verified (or pending with a token). */
export async function insertDomain(pg: Client, name: string, orgId: string | null, verified = true): Promise<string> {
  const res = await pg.query<{ id: string }>(
    `INSERT INTO domains (id, name, org_id, verified_at, verification_token) VALUES (gen_random_uuid(), $1, $2, $3, $4) RETURNING id`,
    [name, orgId, verified ? new Date() : null, verified ? null : randomBytes(8).toString('hex')],
  );
  return res.rows[0]!.id;
}

/** Event types recorded about one target, oldest first. */
export async function eventTypes(pg: Client, targetId: string): Promise<string[]> {
  const res = await pg.query<{ type: string }>(`SELECT type FROM events WHERE target_id = $1 ORDER BY created_at, id`, [targetId]);
  return res.rows.map((r) => r.type);
}
