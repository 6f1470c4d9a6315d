import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { credentialsSchema, type Credentials } from '../provided-credentials';

/**
 * The controller's side of the Open Service Broker API v2.17: every call it makes to a broker and
 * the validation of every answer (a broker is a server a platform admin chose, but its answers
 * still reach tenants' containers and our records: each is parsed with zod, bounded in size and
 * time). Throws BrokerCallError naming the broker, the call and what went wrong. No state.
 */

export const OSB_API_VERSION = '2.17';
/** How long one call may take (OSB asks platforms to wait at least 60 s for a synchronous answer). */
export const OSB_TIMEOUT_MS = 60_000;
/** The largest answer read: a catalog up to 1 MB, anything else up to 64 KB. */
const CATALOG_MAX_BYTES = 1024 * 1024;
const ANSWER_MAX_BYTES = 64 * 1024;

/** Where and as whom the controller calls a broker. */
export interface BrokerEndpoint {
  name: string;
  url: string;
  username: string;
  password: string;
}

/** A broker call that failed: `unreachable` (no answer, timeout), `refused` (a 4xx/5xx answer), `invalid` (an answer we cannot use). */
export class BrokerCallError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'refused' | 'invalid',
    message: string,
    readonly status?: number,
    /** The broker's own `description` of a refusal. */
    readonly description?: string,
  ) {
    super(message);
    this.name = 'BrokerCallError';
  }
}

/** Text a broker wrote that users will read (a terminal, the dashboard): control characters become spaces, at most `max` characters. */
export function brokerText(text: string, max = 1000): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, max);
}
const describedSchema = (max: number) => z.string().max(max).transform((t) => brokerText(t, max));

const idSchema = z.string().min(1).max(255);
const nameSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
  error: 'must follow the app-name rules (lowercase letters, digits and dashes, at most 63 characters), as offerings and plans are named on this platform',
});

export const brokerPlanSchema = z.object({
  id: idSchema,
  name: nameSchema,
  description: describedSchema(1024),
  free: z.boolean().optional().default(true),
  bindable: z.boolean().optional(),
});

export const brokerServiceSchema = z.object({
  id: idSchema,
  name: nameSchema,
  description: describedSchema(1024),
  bindable: z.boolean(),
  tags: z.array(z.string().min(1).max(64).regex(/^[^\s,\u0000-\u001f\u007f-\u009f]+$/, { error: 'a tag has no space, comma or control character' })).max(32).optional().default([]),
  plans: z.array(brokerPlanSchema).min(1).max(100),
});

/** GET /v2/catalog, as we keep it (unknown fields dropped). */
export const brokerCatalogSchema = z.object({ services: z.array(brokerServiceSchema).max(100) });
export type BrokerCatalog = z.infer<typeof brokerCatalogSchema>;
export type BrokerService = z.infer<typeof brokerServiceSchema>;
export type BrokerPlan = z.infer<typeof brokerPlanSchema>;

/** A dashboard URL is kept only when it is http(s) (the dashboard links it: no javascript: or data: URL). */
const dashboardUrlSchema = z
  .string()
  .max(2048)
  .transform((url) => (/^https?:\/\/[^\s]+$/i.test(url) ? url : null));
const provisionAnswerSchema = z.object({ dashboard_url: dashboardUrlSchema.optional().nullable(), operation: z.string().max(10_000).optional().nullable() });
const lastOperationSchema = z.object({ state: z.enum(['in progress', 'succeeded', 'failed']), description: z.string().max(100_000).transform((t) => brokerText(t)).optional().nullable() });
const deprovisionAnswerSchema = z.object({ operation: z.string().max(10_000).optional().nullable() });
const bindAnswerSchema = z.object({ credentials: z.unknown().optional() });

/** What the platform tells the broker of where an instance lives (OSB `context`, Cloud Foundry's profile). */
export interface InstanceContext {
  instanceId: string;
  instanceName: string;
  serviceId: string;
  planId: string;
  orgId: string;
  orgName: string;
  spaceId: string;
  spaceName: string;
}

export type ProvisionOutcome = { async: false; dashboardUrl: string | null } | { async: true; dashboardUrl: string | null; operation: string | null };
export type DeprovisionOutcome = { async: false } | { async: true; operation: string | null };

/** GET /v2/catalog. */
export async function fetchCatalog(broker: BrokerEndpoint): Promise<BrokerCatalog> {
  const answer = await call(broker, 'GET', '/v2/catalog', undefined, CATALOG_MAX_BYTES, 'fetching the catalog');
  if (answer.status !== 200) throw refused(broker, 'fetching the catalog', answer);
  const parsed = brokerCatalogSchema.safeParse(answer.json);
  if (!parsed.success) throw invalid(broker, 'its catalog', parsed.error);
  return parsed.data;
}

/** PUT /v2/service_instances/:id?accepts_incomplete=true. */
export async function provision(broker: BrokerEndpoint, ctx: InstanceContext): Promise<ProvisionOutcome> {
  const body = {
    service_id: ctx.serviceId,
    plan_id: ctx.planId,
    organization_guid: ctx.orgId,
    space_guid: ctx.spaceId,
    context: contextOf(ctx),
  };
  const what = `provisioning ${ctx.instanceName}`;
  const answer = await call(broker, 'PUT', `/v2/service_instances/${enc(ctx.instanceId)}?accepts_incomplete=true`, body, ANSWER_MAX_BYTES, what);
  if (answer.status !== 200 && answer.status !== 201 && answer.status !== 202) throw refused(broker, what, answer);
  const parsed = provisionAnswerSchema.safeParse(answer.json ?? {});
  if (!parsed.success) throw invalid(broker, `its answer to ${what}`, parsed.error);
  const dashboardUrl = parsed.data.dashboard_url ?? null;
  if (answer.status === 202) return { async: true, dashboardUrl, operation: parsed.data.operation ?? null };
  return { async: false, dashboardUrl };
}

/** GET /v2/service_instances/:id/last_operation; `gone` when the broker answers 410 (a deprovision done). */
export async function lastOperation(
  broker: BrokerEndpoint,
  ids: { instanceId: string; serviceId: string; planId: string; operation: string | null },
): Promise<{ state: 'in progress' | 'succeeded' | 'failed'; description: string | null } | 'gone'> {
  const q = new URLSearchParams({ service_id: ids.serviceId, plan_id: ids.planId });
  if (ids.operation) q.set('operation', ids.operation);
  const what = 'polling the last operation';
  const answer = await call(broker, 'GET', `/v2/service_instances/${enc(ids.instanceId)}/last_operation?${q}`, undefined, ANSWER_MAX_BYTES, what);
  if (answer.status === 410) return 'gone';
  if (answer.status !== 200) throw refused(broker, what, answer);
  const parsed = lastOperationSchema.safeParse(answer.json);
  if (!parsed.success) throw invalid(broker, `its answer to ${what}`, parsed.error);
  return { state: parsed.data.state, description: parsed.data.description ?? null };
}

/** DELETE /v2/service_instances/:id?service_id&plan_id&accepts_incomplete=true: 200 and 410 are done, 202 goes on. */
export async function deprovision(broker: BrokerEndpoint, ids: { instanceId: string; instanceName: string; serviceId: string; planId: string }): Promise<DeprovisionOutcome> {
  const q = new URLSearchParams({ service_id: ids.serviceId, plan_id: ids.planId, accepts_incomplete: 'true' });
  const what = `deprovisioning ${ids.instanceName}`;
  const answer = await call(broker, 'DELETE', `/v2/service_instances/${enc(ids.instanceId)}?${q}`, undefined, ANSWER_MAX_BYTES, what);
  if (answer.status === 200 || answer.status === 410) return { async: false };
  if (answer.status !== 202) throw refused(broker, what, answer);
  const parsed = deprovisionAnswerSchema.safeParse(answer.json ?? {});
  if (!parsed.success) throw invalid(broker, `its answer to ${what}`, parsed.error);
  return { async: true, operation: parsed.data.operation ?? null };
}

/**
 * PUT /v2/service_instances/:id/service_bindings/:binding_id (synchronous only: an asynchronous
 * bind, 202, is refused with an error saying so). The credentials must be a flat object of
 * string/number values within the bounds of credentialsSchema.
 */
export async function bind(broker: BrokerEndpoint, ctx: InstanceContext & { bindingId: string; appId: string }): Promise<Credentials> {
  const body = {
    service_id: ctx.serviceId,
    plan_id: ctx.planId,
    app_guid: ctx.appId,
    bind_resource: { app_guid: ctx.appId },
    context: contextOf(ctx),
  };
  const what = `binding ${ctx.instanceName}`;
  const answer = await call(broker, 'PUT', `/v2/service_instances/${enc(ctx.instanceId)}/service_bindings/${enc(ctx.bindingId)}`, body, ANSWER_MAX_BYTES, what);
  if (answer.status === 202) {
    throw new BrokerCallError('invalid', `broker ${broker.name} answered ${what} asynchronously (202): this platform supports synchronous bindings only (OSB bindings_retrievable is not used); ask the broker's owner for a synchronous bind`, 202);
  }
  if (answer.status !== 200 && answer.status !== 201) throw refused(broker, what, answer);
  const parsed = bindAnswerSchema.safeParse(answer.json ?? {});
  if (!parsed.success) throw invalid(broker, `its answer to ${what}`, parsed.error);
  const credentials = credentialsSchema.safeParse(parsed.data.credentials ?? {});
  if (!credentials.success) throw invalid(broker, `the credentials it gave for ${ctx.instanceName}`, credentials.error);
  return credentials.data;
}

/** DELETE /v2/service_instances/:id/service_bindings/:binding_id?service_id&plan_id: 200 and 410 are done. */
export async function unbind(broker: BrokerEndpoint, ids: { instanceId: string; instanceName: string; bindingId: string; serviceId: string; planId: string }): Promise<void> {
  const q = new URLSearchParams({ service_id: ids.serviceId, plan_id: ids.planId });
  const what = `unbinding ${ids.instanceName}`;
  const answer = await call(broker, 'DELETE', `/v2/service_instances/${enc(ids.instanceId)}/service_bindings/${enc(ids.bindingId)}?${q}`, undefined, ANSWER_MAX_BYTES, what);
  if (answer.status === 200 || answer.status === 410) return;
  if (answer.status === 202) throw new BrokerCallError('invalid', `broker ${broker.name} answered ${what} asynchronously (202): this platform supports synchronous unbinding only`, 202);
  throw refused(broker, what, answer);
}

/** The broker URL rule: http or https, no credentials, query or fragment; trailing slashes dropped. Throws a message when it breaks it. */
export function normalizeBrokerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${JSON.stringify(raw)} is not a URL: give the broker's base URL, e.g. https://broker.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the broker URL must be http:// or https://, not ${url.protocol}`);
  if (url.username || url.password) throw new Error('the broker URL must not hold credentials: give username and password apart');
  if (url.search || url.hash) throw new Error('the broker URL must not have a query or fragment: give its base URL');
  return url.toString().replace(/\/+$/, '');
}

function contextOf(ctx: InstanceContext) {
  return {
    platform: 'cloudfoundry',
    organization_guid: ctx.orgId,
    organization_name: ctx.orgName,
    space_guid: ctx.spaceId,
    space_name: ctx.spaceName,
    instance_name: ctx.instanceName,
  };
}

const enc = encodeURIComponent;

interface Answer {
  status: number;
  json: unknown;
}

async function call(broker: BrokerEndpoint, method: string, path: string, body: unknown, maxBytes: number, what: string): Promise<Answer> {
  const headers: Record<string, string> = {
    'x-broker-api-version': OSB_API_VERSION,
    'x-broker-api-request-identity': randomUUID(),
    authorization: `Basic ${Buffer.from(`${broker.username}:${broker.password}`).toString('base64')}`,
    accept: 'application/json',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${broker.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(OSB_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new BrokerCallError('unreachable', `broker ${broker.name} at ${broker.url} did not answer ${what}: ${cause}`);
  }
  const text = await readCapped(response, maxBytes).catch((error: Error) => {
    throw new BrokerCallError('invalid', `broker ${broker.name} answered ${what} with ${error.message}`, response.status);
  });
  let json: unknown;
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      if (response.status < 300) throw new BrokerCallError('invalid', `broker ${broker.name} answered ${what} with HTTP ${response.status} and a body that is not JSON`, response.status);
    }
  }
  return { status: response.status, json };
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new Error(`more than ${maxBytes / 1024} KB`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function refused(broker: BrokerEndpoint, what: string, answer: Answer): BrokerCallError {
  const described = answer.json && typeof answer.json === 'object' ? (answer.json as Record<string, unknown>) : {};
  const description = typeof described.description === 'string' ? brokerText(described.description) : undefined;
  const error = typeof described.error === 'string' ? brokerText(described.error, 100) : undefined;
  const said = [error, description].filter(Boolean).join(': ');
  return new BrokerCallError('refused', `broker ${broker.name} refused ${what} (HTTP ${answer.status}${said ? `: ${said}` : ''})`, answer.status, description ?? error);
}

function invalid(broker: BrokerEndpoint, what: string, error: z.ZodError): BrokerCallError {
  const problems = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  return new BrokerCallError('invalid', `broker ${broker.name} gave ${what} in a shape this platform cannot use: ${problems}`);
}
