import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (private keys of certificates and of the ACME account, in Postgres and in
 * Redis) are sealed with the platform secret key, a file only the controller and the routers
 * read (PAAS_SECRET_KEY_FILE).
 */

/**
 * The platform secret key (32 bytes) from the text of its file: base64 or hex of 32 bytes.
 * Throws with the fix when it is not.
 */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('the platform secret key must be 32 random bytes in base64 or hex (e.g. `openssl rand -base64 32`)');
  return key;
}

const SEALED = /^v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;

/** AES-256-GCM of `plaintext` under `key`: `v1.<iv>.<tag>.<ciphertext>` (base64url). A new IV each call. */
export function sealSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
}

/** Inverse of sealSecret; throws when the text was not sealed with this key or was altered. */
export function openSecret(key: Buffer, sealed: string): string {
  const m = SEALED.exec(sealed);
  if (!m) throw new Error('not a sealed secret (v1.<iv>.<tag>.<ciphertext>)');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(m[1]!, 'base64url'));
  decipher.setAuthTag(Buffer.from(m[2]!, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(m[3]!, 'base64url')), decipher.final()]).toString('utf8');
}
