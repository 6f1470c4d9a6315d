import { z } from 'zod';

/**
 * HTTPS: what crosses processes about certificates, domain verification and ACME challenges
 * (docs/https.md). The controller writes, the routers read.
 */

/**
 * One certificate the routers serve (Redis hash `certificates`, field: the certificate's id).
 * `names` are the hosts it covers as its subjectAltNames say: exact hosts and wildcards
 * (`*.apps.example.com` covers one label). `keySealed` is the private key (PEM) sealed with the
 * platform secret key (sealSecret): Redis never holds a private key in clear.
 */
export const certificateEntrySchema = z.object({
  id: z.string(),
  names: z.array(z.string().min(1)).min(1),
  /** Leaf first, then the intermediates (PEM). */
  chainPem: z.string().min(1),
  keySealed: z.string().min(1),
  /** Epoch ms; of two certificates for one name the router serves the one that expires last. */
  notAfter: z.number(),
});
export type CertificateEntry = z.infer<typeof certificateEntrySchema>;

/**
 * A fixed answer the routers give for one host and path under `/.well-known/` before any route
 * is looked up (Redis hash `wellKnown`, field wellKnownField(host, path)): an ACME HTTP-01
 * key authorization, or a domain-verification token. Plain text, status 200. Expired entries are
 * ignored (the controller deletes them too).
 */
export const wellKnownAnswerSchema = z.object({
  body: z.string().max(4096),
  /** Epoch ms. */
  expiresAt: z.number(),
});
export type WellKnownAnswer = z.infer<typeof wellKnownAnswerSchema>;

/**
 * The router's TLS cipher list (the bench gives it to nginx too). Forward-secret AEAD suites only (Mozilla's "intermediate" list): the TLS 1.3 suites, then
 * ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2. Every one is allowed by HTTP/2 (RFC 9113
 * §9.2.2). The TLS 1.3 names must be listed: a list without them turns TLS 1.3 off in node.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
export const DOMAIN_VERIFICATION_PREFIX = '/.well-known/paas-domain-verification/';
/** The TXT record that proves control of a domain by DNS: `_paas-verification.<domain>` = the token. */
export const DOMAIN_VERIFICATION_TXT_LABEL = '_paas-verification';

/** Field of a well-known answer: lowercase host (no port), a space, the exact path. */
export function wellKnownField(host: string, path: string): string {
  return `${host.toLowerCase()} ${path}`;
}

/** Whether a certificate name covers a host: exact, or `*.rest` for exactly one more label. */
export function certificateNameCovers(name: string, host: string): boolean {
  const n = name.toLowerCase();
  const h = host.toLowerCase();
  if (n === h) return true;
  if (!n.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === n.slice(2);
}

// ---- API views (controller → CLI, dashboard) ----

export const domainVerificationViewSchema = z.object({
  /** `verified`: routes and certificates may use it; `pending`: prove control first (POST /v1/domains/:id/verify). */
  state: z.enum(['verified', 'pending']),
  /** The token to serve: the router serves it itself at `http_url` once DNS points the domain at the platform. */
  token: z.string().nullable(),
  /** http://<domain>/.well-known/paas-domain-verification/<token> */
  http_url: z.string().nullable(),
  /** `_paas-verification.<domain>`, TXT value `token` (when the operator configured PAAS_DNS_RESOLVER). */
  dns_record: z.object({ name: z.string(), type: z.literal('TXT'), value: z.string() }).nullable(),
  verified_at: z.string().nullable(),
  /** Why the last verify failed, e.g. "http://… answered 404". */
  last_error: z.string().nullable(),
});
export type DomainVerificationView = z.infer<typeof domainVerificationViewSchema>;

export const certificateSources = ['upload', 'acme', 'platform'] as const;
export type CertificateSource = (typeof certificateSources)[number];
/**
 * `pending`: an ACME order not issued yet (first attempt or retrying); `issued`: served;
 * `failed`: the last ACME attempt failed (retried at `next_attempt_at`; an issued certificate
 * that failed to renew keeps being served while it is valid); `expired`: past not_after, not served.
 */
export const certificateStates = ['pending', 'issued', 'failed', 'expired'] as const;
export type CertificateState = (typeof certificateStates)[number];

/** GET /v1/certificates[/:id]. The private key is never shown. */
export const certificateViewSchema = z.object({
  id: z.string(),
  /** The org whose domains it covers; null for the platform's own (source platform, shared domains). */
  org_id: z.string().nullable(),
  source: z.enum(certificateSources),
  state: z.enum(certificateStates),
  /** Hosts it covers (its subjectAltNames, or the names ordered). */
  names: z.array(z.string()),
  /** Issuer's distinguished name, e.g. "CN=Pebble Intermediate CA 1a2b3c". */
  issuer: z.string().nullable(),
  not_before: z.string().nullable(),
  not_after: z.string().nullable(),
  /** When the platform renews it (ACME and platform certificates): not_after minus the renewal window. */
  renews_at: z.string().nullable(),
  last_error: z.string().nullable(),
  /** Next ACME attempt after a failure (backoff), null when none is due. */
  next_attempt_at: z.string().nullable(),
  attempts: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type CertificateView = z.infer<typeof certificateViewSchema>;

// ---- API requests ----

/** POST /v1/domains/:id/verify: check the HTTP token (default) or the DNS TXT record now. */
export const verifyDomainRequestSchema = z.strictObject({ method: z.enum(['http', 'dns']).default('http') });
export type VerifyDomainRequest = z.input<typeof verifyDomainRequestSchema>;

/**
 * POST /v1/certificates. `upload`: a PEM chain (leaf first) and its private key, validated (the
 * key matches, the chain is complete up to a root, it is valid now, every name is a host of a
 * domain the org holds). `acme`: the platform orders one for `names` (HTTP-01 through the
 * router) and renews it.
 */
export const createCertificateRequestSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('upload'),
    certificate_chain: z.string({ error: 'certificate_chain is required: the PEM certificate, then its intermediates' }).min(1).max(65_536),
    private_key: z.string({ error: 'private_key is required: the PEM private key of the certificate' }).min(1).max(16_384),
  }),
  z.strictObject({
    source: z.literal('acme'),
    names: z.array(z.string().min(1).max(253)).min(1).max(20),
  }),
]);
export type CreateCertificateRequest = z.infer<typeof createCertificateRequestSchema>;

const HSTS_MAX_AGE_RULE = 'hsts_max_age must be a whole number of seconds from 0 to 63072000 (2 years), or null for no Strict-Transport-Security header';

/** PATCH /v1/routes/:id: HTTPS settings of one route. */
export const updateRouteRequestSchema = z.strictObject({
  /** Plain-HTTP requests get a 308 to the same URL on https. */
  https_redirect: z.boolean({ error: 'https_redirect must be true or false' }).optional(),
  /** Strict-Transport-Security max-age in seconds on HTTPS responses (no includeSubDomains: other hosts are other tenants'); null: none. */
  hsts_max_age: z
    .number({ error: HSTS_MAX_AGE_RULE })
    .int({ error: HSTS_MAX_AGE_RULE })
    .min(0, { error: HSTS_MAX_AGE_RULE })
    .max(63_072_000, { error: HSTS_MAX_AGE_RULE })
    .nullable()
    .optional(),
});
export type UpdateRouteRequest = z.infer<typeof updateRouteRequestSchema>;
