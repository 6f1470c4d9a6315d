import { z } from 'zod';

/**
 * Credentials the platform passes on to apps without making them itself: those a user gives a
 * user-provided instance, those a broker answers a bind with. A flat object of string or number
 * values (what VCAP_SERVICES and BoundService carry), bounded. Pure.
 */
export const CREDENTIALS_MAX_ENTRIES = 64;
export const CREDENTIALS_MAX_BYTES = 16 * 1024;
export const credentialsSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: 'credential names are letters, digits and _ (not first a digit), at most 64 characters' }),
    z.union([z.string(), z.number()], { error: 'credential values are strings or numbers (no objects, arrays, booleans or null)' }),
  )
  .refine((c) => Object.keys(c).length <= CREDENTIALS_MAX_ENTRIES, { error: `at most ${CREDENTIALS_MAX_ENTRIES} credentials` })
  .refine((c) => Buffer.byteLength(JSON.stringify(c)) <= CREDENTIALS_MAX_BYTES, { error: `at most ${CREDENTIALS_MAX_BYTES / 1024} KB of credentials (as JSON)` });
export type Credentials = z.infer<typeof credentialsSchema>;

