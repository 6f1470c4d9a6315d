import { z } from 'zod';

export const DOMAIN_NAME_RULE =
  'a domain name is lowercase DNS labels (a-z, 0-9, "-", not starting or ending with "-") joined by ".", at least two labels, at most 253 characters';

export const createDomainSchema = z.strictObject({
  name: z
    .string({ error: 'name is required: ' + DOMAIN_NAME_RULE })
    .max(253, { error: DOMAIN_NAME_RULE })
    .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { error: DOMAIN_NAME_RULE }),
  /** The org owning this private domain; without it the domain is shared by every space. */
  org_id: z.uuid({ error: 'org_id must be an org id (a UUID)' }).optional(),
});
export type CreateDomainRequest = z.infer<typeof createDomainSchema>;
