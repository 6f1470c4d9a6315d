import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { parseSecretKey } from '@paas/redis';

/** 30 days: Let's Encrypt's advice for 90-day certificates. */
export const DEFAULT_RENEW_BEFORE_S = 30 * 86_400;
/** A failed ACME order is retried after base·2^(attempts−1) seconds, at most this long. */
export const ACME_RETRY_CAP_S = 6 * 3600;

const seconds = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number of seconds` })
    .int({ error: `${name} must be a whole number of seconds` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

const absolutePath = (name: string) => z.string().startsWith('/', { error: `${name} must be an absolute path` });

/** The controller's HTTPS settings (docs/https.md, docs/operations.md): certificates, ACME, the local CA. */
export const tlsEnvShape = {
  /** File with the platform secret key (32 random bytes, base64 or hex) that seals private keys. Unset: certificates are refused. */
  PAAS_SECRET_KEY_FILE: absolutePath('PAAS_SECRET_KEY_FILE').optional(),
  /** ACME directory (https://acme-v02.api.letsencrypt.org/directory). Unset: ACME orders are refused. */
  PAAS_ACME_DIRECTORY_URL: z.url({ error: 'PAAS_ACME_DIRECTORY_URL must be the URL of an ACME directory, e.g. https://acme-v02.api.letsencrypt.org/directory' }).optional(),
  /** Extra CA (PEM) trusted for the ACME server's own HTTPS (a test CA such as pebble's). */
  PAAS_ACME_CA_FILE: absolutePath('PAAS_ACME_CA_FILE').optional(),
  /** Contact of the ACME account (expiry notices). */
  PAAS_ACME_EMAIL: z.email({ error: 'PAAS_ACME_EMAIL must be an email address' }).optional(),
  /** ACME and platform certificates are renewed this long before they expire. */
  PAAS_CERT_RENEW_BEFORE_S: seconds('PAAS_CERT_RENEW_BEFORE_S', 1, 365 * 86_400).default(DEFAULT_RENEW_BEFORE_S),
  /** First retry of a failed ACME order after this long; doubles per failure, at most 6 h. */
  PAAS_ACME_RETRY_BASE_S: seconds('PAAS_ACME_RETRY_BASE_S', 1, ACME_RETRY_CAP_S).default(60),
  /** Set: the controller keeps a local CA there (ca.pem, ca-key.pem) and a platform certificate for the apps domain. */
  PAAS_LOCAL_CA_DIR: absolutePath('PAAS_LOCAL_CA_DIR').optional(),
};

type TlsEnv = z.infer<z.ZodObject<typeof tlsEnvShape>>;

function readConfigFile(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix the path or create the file`);
  }
}

export interface TlsSettings {
  /** The platform secret key, or undefined when PAAS_SECRET_KEY_FILE is unset. */
  secretKey: Buffer | undefined;
  acme: {
    directoryUrl: string | undefined;
    /** PEM of PAAS_ACME_CA_FILE, checked to hold at least one certificate. */
    caPem: string | undefined;
    email: string | undefined;
    retryBaseMs: number;
    retryCapMs: number;
  };
  renewBeforeMs: number;
  localCaDir: string | undefined;
}

/** Reads the files the settings name (once, at boot); a missing or bad file fails the boot with the variable named. */
export function tlsSettings(c: TlsEnv): TlsSettings {
  let secretKey: Buffer | undefined;
  if (c.PAAS_SECRET_KEY_FILE) {
    try {
      secretKey = parseSecretKey(readConfigFile('PAAS_SECRET_KEY_FILE', c.PAAS_SECRET_KEY_FILE));
    } catch (error) {
      const message = (error as Error).message;
      throw new Error(message.startsWith('PAAS_SECRET_KEY_FILE') ? message : `PAAS_SECRET_KEY_FILE: ${c.PAAS_SECRET_KEY_FILE}: ${message}`);
    }
  }
  if (c.PAAS_LOCAL_CA_DIR && !secretKey) {
    throw new Error('PAAS_LOCAL_CA_DIR: the platform certificate of the local CA needs PAAS_SECRET_KEY_FILE (its key is sealed with it): set both, or neither');
  }
  let caPem: string | undefined;
  if (c.PAAS_ACME_CA_FILE) {
    caPem = readConfigFile('PAAS_ACME_CA_FILE', c.PAAS_ACME_CA_FILE);
    try {
      new X509Certificate(caPem);
    } catch {
      throw new Error(`PAAS_ACME_CA_FILE: ${c.PAAS_ACME_CA_FILE} holds no PEM certificate: give the CA certificate of the ACME server's HTTPS`);
    }
  }
  return {
    secretKey,
    acme: {
      directoryUrl: c.PAAS_ACME_DIRECTORY_URL,
      caPem,
      email: c.PAAS_ACME_EMAIL,
      retryBaseMs: c.PAAS_ACME_RETRY_BASE_S * 1000,
      retryCapMs: ACME_RETRY_CAP_S * 1000,
    },
    renewBeforeMs: c.PAAS_CERT_RENEW_BEFORE_S * 1000,
    localCaDir: c.PAAS_LOCAL_CA_DIR,
  };
}
