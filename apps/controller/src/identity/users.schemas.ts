import { z } from 'zod';

export const USER_NAME_RULE = 'a user name has 1-64 characters of letters, digits, ".", "_", "-", "+" and "@", starting with a letter or digit';

export const createUserSchema = z.strictObject({
  name: z.string({ error: 'name is required: ' + USER_NAME_RULE }).regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/, { error: USER_NAME_RULE }),
  /** Platform admins see and change everything. */
  is_admin: z.boolean({ error: 'is_admin must be true or false' }).optional(),
});
export type CreateUserRequest = z.infer<typeof createUserSchema>;

export const createTokenSchema = z.strictObject({
  name: z
    .string({ error: 'name is required: say what the token is for, e.g. "laptop" or "ci"' })
    .min(1, { error: 'name must not be empty' })
    .max(100, { error: 'name may have at most 100 characters' }),
});
export type CreateTokenRequest = z.infer<typeof createTokenSchema>;
