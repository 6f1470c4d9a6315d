import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Issuing certificates ourselves (the local CA, and test fixtures) with @peculiar/x509 on node's
 * WebCrypto: EC P-256 keys by default, RSA on request (tests of weak keys).
 */

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- @peculiar/x509 types the DOM's Crypto, which node's webcrypto is
x509.cryptoProvider.set(webcrypto as any);

export type KeySpec = { type: 'ec' } | { type: 'rsa'; bits: number };

/** A key pair with its private key as PKCS#8 PEM. */
export interface IssuingKey {
  keys: CryptoKeyPair;
  keyPem: string;
  algorithm: (webcrypto.EcKeyImportParams & webcrypto.EcdsaParams) | webcrypto.RsaHashedImportParams;
}

function algorithmOf(spec: KeySpec): IssuingKey['algorithm'] {
  return spec.type === 'ec'
    ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

function pem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export async function generateKey(spec: KeySpec = { type: 'ec' }): Promise<IssuingKey> {
  const algorithm = algorithmOf(spec);
  const params = spec.type === 'ec' ? algorithm : { ...algorithm, modulusLength: spec.bits, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(params as webcrypto.RsaHashedKeyGenParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { keys, keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'), algorithm };
}

/** A key read back from its PEM (the local CA's ca-key.pem): EC P-256 or RSA. */
export async function importKey(keyPem: string): Promise<IssuingKey> {
  const object = createPrivateKey(keyPem);
  const algorithm = algorithmOf(object.asymmetricKeyType === 'ec' ? { type: 'ec' } : { type: 'rsa', bits: 2048 });
  const privateKey = object.toCryptoKey(algorithm, true, ['sign']) as unknown as CryptoKey;
  const publicKey = createPublicKey(object).toCryptoKey(algorithm, true, ['verify']) as unknown as CryptoKey;
  return { keys: { privateKey, publicKey }, keyPem: object.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm };
}

export interface IssueOptions {
  subject: string;
  /** DNS subjectAltNames (none: a certificate named by its CN only). */
  dnsNames?: string[];
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean;
  /** The issuer; absent: self-signed with `key`. */
  issuer?: { certificate: x509.X509Certificate; key: IssuingKey };
}

/** Issues a certificate for `key`'s public key, signed by `options.issuer` (or self-signed). */
export async function issueCertificate(key: IssuingKey, options: IssueOptions): Promise<x509.X509Certificate> {
  const signer = options.issuer?.key ?? key;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(!!options.ca, options.ca ? 0 : undefined, true),
    new x509.KeyUsagesExtension(
      options.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
  ];
  if (!options.ca) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]));
  if (options.dnsNames?.length) extensions.push(new x509.SubjectAlternativeNameExtension(options.dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  if (options.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(options.issuer.certificate));
  return x509.X509CertificateGenerator.create({
    // Positive, 16 random bytes (RFC 5280: at most 20 octets).
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: options.subject,
    issuer: options.issuer?.certificate.subject ?? options.subject,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: signer.algorithm,
    publicKey: key.keys.publicKey,
    signingKey: signer.keys.privateKey,
    extensions,
  });
}

/** The PEM of a certificate made here. */
export function certificatePem(certificate: x509.X509Certificate): string {
  return certificate.toString('pem') + '\n';
}

export { x509 };
