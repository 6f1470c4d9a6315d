import { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { appNameSchema } from '@paas/contracts';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import { ZodBodyPipe } from '../../platform/common/zod-body.pipe';
import { credentialsSchema, type Credentials } from '../provided-credentials';

/** VCAP_SERVICES tags of a user-provided instance. */
export const tagsSchema = z
  .array(z.string().min(1, { error: 'a tag is not empty' }).max(64, { error: 'a tag has at most 64 characters' }).regex(/^[^,\s]+$/, { error: 'a tag has no comma or space' }), {
    error: 'tags is a list of strings',
  })
  .max(32, { error: 'at most 32 tags' });

/** The shape of `credentials` (an object); its rules (names, values, bounds) are checked after, as a 422 naming the rule (checkCredentials). */
const credentialsShape = z.record(z.string(), z.unknown(), { error: 'credentials is an object of names and string or number values, e.g. {"uri":"postgres://..."}' });

export const createUserProvidedSchema = z.strictObject({
  type: z.literal('user-provided'),
  name: appNameSchema,
  credentials: credentialsShape,
  tags: tagsSchema.optional(),
  space_id: z.uuid({ error: 'space_id must be a space id (a UUID)' }).optional(),
});
export type CreateUserProvidedRequest = z.infer<typeof createUserProvidedSchema>;

/** PATCH of a user-provided instance: any of its name, credentials (replaced whole) and tags. */
export const updateUserProvidedSchema = z.strictObject({
  name: appNameSchema.optional(),
  credentials: credentialsShape.optional(),
  tags: tagsSchema.optional(),
});
export type UpdateUserProvidedRequest = z.infer<typeof updateUserProvidedSchema>;

/** The credentials, or a 422 naming each rule they break (at most 64 env-like names, string or number values, 16 KB). */
export function checkCredentials(credentials: Record<string, unknown>): Credentials {
  const parsed = credentialsSchema.safeParse(credentials);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ field: ['credentials', ...i.path].join('.'), rule: i.message }));
  throw new DomainException(ErrorCode.Unprocessable, details.map((d) => `${d.field}: ${d.rule}`).join('; '), details);
}

/**
 * The body of POST /v1/service_instances: a user-provided instance's (`type: "user-provided"`)
 * or, otherwise, the schema the controller gives (an offering and plan, built-in or a broker's).
 */
export class ServiceInstanceBodyPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T> | CreateUserProvidedRequest> {
  private readonly userProvided = new ZodBodyPipe(createUserProvidedSchema);
  private readonly other: ZodBodyPipe<T>;
  /** Both bodies, for the OpenAPI document (route-discovery reads a body pipe's `schema`). */
  readonly schema: z.ZodType;

  constructor(schema: T) {
    this.other = new ZodBodyPipe(schema);
    this.schema = z.union([schema, createUserProvidedSchema]);
  }

  transform(value: unknown): z.infer<T> | CreateUserProvidedRequest {
    const body = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    if (!body || body.type === undefined) return this.other.transform(value);
    if (body.type === 'user-provided') return this.userProvided.transform(value);
    if (body.type !== 'managed' && body.type !== 'brokered') {
      throw new DomainException(ErrorCode.ValidationFailed, 'type: "user-provided", or leave it out to create an instance of an offering', [{ field: 'type', rule: 'user-provided' }]);
    }
    const { type: _type, ...rest } = body;
    return this.other.transform(rest);
  }
}

export function isUserProvidedRequest(body: object): body is CreateUserProvidedRequest {
  return (body as { type?: unknown }).type === 'user-provided';
}
