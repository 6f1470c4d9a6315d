import { z } from 'zod';

/** Names of orgs and spaces: what `paas` users type, so short and shell-friendly. */
export const RESOURCE_NAME_RULE = 'a name has 1-63 characters of letters, digits, ".", "_" and "-", starting with a letter or digit';
export const resourceNameSchema = z
  .string({ error: 'name is required: ' + RESOURCE_NAME_RULE })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: RESOURCE_NAME_RULE });

const uuid = (field: string) => z.uuid({ error: `${field} must be an id (a UUID)` });

export const createOrgSchema = z.strictObject({ name: resourceNameSchema });
export type CreateOrgRequest = z.infer<typeof createOrgSchema>;

export const updateOrgSchema = z.strictObject({ name: resourceNameSchema });
export type UpdateOrgRequest = z.infer<typeof updateOrgSchema>;

export const createSpaceSchema = z.strictObject({ name: resourceNameSchema, org_id: uuid('org_id') });
export type CreateSpaceRequest = z.infer<typeof createSpaceSchema>;

export const updateSpaceSchema = z.strictObject({ name: resourceNameSchema });
export type UpdateSpaceRequest = z.infer<typeof updateSpaceSchema>;

export const ROLE_NAMES = ['admin', 'developer', 'viewer'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Gives a user a role in a space (replacing the role it had there). The user by id or by name. */
export const setRoleSchema = z
  .strictObject({
    user_id: uuid('user_id').optional(),
    user_name: z.string().min(1, { error: 'user_name must not be empty' }).optional(),
    role: z.enum(ROLE_NAMES, { error: 'role must be one of admin, developer, viewer' }),
  })
  .refine((b) => (b.user_id === undefined) !== (b.user_name === undefined), {
    error: 'give exactly one of user_id and user_name',
    path: ['user_id'],
  });
export type SetRoleRequest = z.infer<typeof setRoleSchema>;
