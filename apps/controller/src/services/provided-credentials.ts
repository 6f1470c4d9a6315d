import { z } from 'zod';

/**
 * Credentials the platform passes on to apps without making them itself: those a user gives a
 * user-provided instance, those a broker answers a bind with. A flat object of string or number
 * values (what VCAP_SERVICES and BoundService carry), bounded. Pure.
 */
export const CREDENTIALS_MAX_ENTRIES = 64;
export const CREDENTIALS_MAX_BYTES = 16 * 1024;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const credentialsSchema = z
  .record(z.string(), z.union([z.string(), z.number()], { error: 'credential values are strings or numbers (no objects, arrays, booleans or null)' }))
  .superRefine((credentials, ctx) => {
    const names = Object.keys(credentials);
    for (const name of names) {
      if (!NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'credential names are env-like: letters, digits and _ (not first a digit), at most 64 characters' });
    }
    if (names.length > CREDENTIALS_MAX_ENTRIES) ctx.addIssue({ code: 'custom', message: `at most ${CREDENTIALS_MAX_ENTRIES} credentials (there are ${names.length})` });
    if (Buffer.byteLength(JSON.stringify(credentials)) > CREDENTIALS_MAX_BYTES) ctx.addIssue({ code: 'custom', message: `at most ${CREDENTIALS_MAX_BYTES / 1024} KB of credentials (as JSON)` });
  });
export type Credentials = z.infer<typeof credentialsSchema>;
