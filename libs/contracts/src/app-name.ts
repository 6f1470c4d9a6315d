import { z } from 'zod';

/** An app name is a lowercase DNS label: it becomes the host of the app's default route. */
export const APP_NAME_RULE =
  'an app name must be a lowercase DNS label: 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit';

export const appNameSchema = z
  .string({ error: 'name is required: ' + APP_NAME_RULE })
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: APP_NAME_RULE });

export const createAppSchema = z.strictObject({
  name: appNameSchema,
  /** The space the app lives in; defaults to the "default" space of the "default" org. */
  space_id: z.uuid({ error: 'space_id must be a space id (a UUID)' }).optional(),
  /** Do not map the default route NAME.<apps domain>. */
  no_route: z.boolean().optional(),
});
export type CreateAppRequest = z.infer<typeof createAppSchema>;
