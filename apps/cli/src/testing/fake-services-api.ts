/**
 * For the CLI's service specs: the services API (docs/api.md, shapes in libs/contracts
 * services.ts) as a small HTTP server on 127.0.0.1, with one app (`shop`, in space s1) and the
 * built-in marketplace; and `paas`, which runs the real CLI binary against it. Scripted by
 * instance names: a create or delete ends after `pollsToEnd` GETs of the instance (a deleted
 * one is gone at the next), failing for a name starting with `broken`. Deployments are DEPLOYED at their
 * second GET, or FAILED for a binding of an instance named `crashy`. `requests` records every
 * request (method, path with query, body) in order. Every answer is checked against its schema
 * before it is sent, so a spec cannot pass on a shape the real API would not give.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  appViewSchema,
  BUILTIN_OFFERINGS,
  changeResultSchema,
  deploymentViewSchema,
  paginatedSchema,
  serviceBindingViewSchema,
  serviceInstanceViewSchema,
  serviceOfferingViewSchema,
  spaceViewSchema,
  type DeploymentView,
  type ServiceBindingView,
  type ServiceInstanceView,
  type ServiceOfferingView,
} from '@paas/contracts';
import { serviceBindingResultSchema } from '@paas/api-client';
import { z } from 'zod';

const TIME = '2026-01-01T00:00:00.000Z';
export const TOKEN = 'svc-t0k';
export const SPACES = [
  { id: 's1', name: 'dev', org_id: 'o1', org_name: 'acme', created_at: TIME },
  { id: 's2', name: 'prod', org_id: 'o1', org_name: 'acme', created_at: TIME },
].map((s) => spaceViewSchema.parse(s));
export const APP = appViewSchema.parse({
  id: '7b0f1b1e-0000-4000-8000-0000000000a1', name: 'shop', state: 'STARTED', space_id: 's1', space_name: 'dev', org_name: 'acme',
  current_release_id: 'r1', url: 'http://shop.apps.localhost/', git_url: 'http://x/git/shop.git', created_at: TIME, updated_at: TIME,
});
export const OFFERINGS: ServiceOfferingView[] = BUILTIN_OFFERINGS.map((o) =>
  serviceOfferingViewSchema.parse({
    name: o.name, description: o.description, tags: o.tags, version: o.version, broker: 'built-in',
    plans: o.plans.map((p) => ({ name: p.name, offering: o.name, description: p.description, memory_mb: p.memoryMb, disk_mb: p.diskMb, free: p.free })),
  }),
);

interface Recorded {
  method: string;
  path: string;
  body: unknown;
}

export class FakeServicesApi {
  readonly requests: Recorded[] = [];
  readonly instances = new Map<string, ServiceInstanceView>();
  readonly bindings: ServiceBindingView[] = [];
  pollsToEnd = 2;
  private readonly polls = new Map<string, number>();
  private readonly deployments = new Map<string, { view: DeploymentView; fail: boolean; gets: number }>();
  private release = 1;
  private ids = 0;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** An instance as if created and ready (create succeeded, available on cell-1). */
  seed(name: string, offering = 'postgresql', spaceId = 's1', change: Partial<ServiceInstanceView> = {}): ServiceInstanceView {
    const space = SPACES.find((s) => s.id === spaceId)!;
    const view = serviceInstanceViewSchema.parse({
      id: this.nextId(), name, type: 'managed', offering, plan: 'small', broker: 'built-in', tags: [], backup_retention: 7, usage: null, dashboard_url: null,
      space_id: space.id, space_name: space.name, org_name: space.org_name,
      last_operation: { type: 'create', state: 'succeeded', description: null, updated_at: TIME },
      status: 'available', status_reason: null, cell_id: 'cell-1', bound_apps: [], created_at: TIME, updated_at: TIME, ...change,
    });
    this.instances.set(view.id, view);
    return view;
  }

  private nextId(): string {
    return `00000000-0000-4000-8000-${String(++this.ids).padStart(12, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body });
    const send = <S extends z.ZodType>(status: number, schema: S, value: z.infer<S>) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(schema.parse(value)));
    };
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, 'unauthorized', 'no such token');
    const list = <S extends z.ZodType>(item: S, items: Array<z.infer<S>>) => send(200, z.object({ resources: z.array(item) }), { resources: items });
    const parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
    const spaceId = url.searchParams.get('space_id') ?? undefined;
    const find = (key: string) => {
      const matches = [...this.instances.values()].filter((i) => (i.id === key || i.name === key) && (!spaceId || i.space_id === spaceId));
      if (matches.length > 1) fail(409, 'ambiguous', `several spaces have a service ${key}: ${matches.map((m) => `${m.org_name}/${m.space_name}`).join(', ')}; add ?space_id=`);
      else if (matches.length === 0) fail(404, 'not-found', `no service instance ${key}`);
      return matches.length === 1 ? matches[0] : undefined;
    };
    const [kind, key, sub, subKey] = parts;
    if (kind === 'spaces') {
      const page = { href: '/v1/spaces' };
      return send(200, paginatedSchema(spaceViewSchema), { resources: SPACES, pagination: { total_results: SPACES.length, total_pages: 1, first: page, last: page, next: null, previous: null } });
    }
    if (kind === 'service_offerings') return list(serviceOfferingViewSchema, OFFERINGS);
    if (kind === 'service_instances' && !key && req.method === 'GET') {
      const names = url.searchParams.get('names')?.split(',');
      return list(serviceInstanceViewSchema, [...this.instances.values()].filter((i) => (!spaceId || i.space_id === spaceId) && (!names || names.includes(i.name))));
    }
    if (kind === 'service_instances' && !key && req.method === 'POST') return this.create(body ?? {}, send, fail);
    if (kind === 'service_instances' && key) {
      const instance = find(key);
      if (!instance) return;
      if (req.method === 'GET') return send(200, serviceInstanceViewSchema, this.advance(instance));
      if (req.method === 'PATCH') {
        const renamed = { ...instance, name: String(body?.name) };
        this.instances.set(instance.id, renamed);
        return send(200, serviceInstanceViewSchema, renamed);
      }
      if (req.method === 'DELETE') {
        if (instance.bound_apps.length > 0) {
          return fail(409, 'service-instance-bound', `service ${instance.name} is bound to ${instance.bound_apps.join(', ')}: unbind it first (paas unbind-service ${instance.bound_apps[0]} ${instance.name})`);
        }
        const deleting = { ...instance, status: null, last_operation: { type: 'delete' as const, state: 'in progress' as const, description: 'stopping the server', updated_at: TIME } };
        this.instances.set(instance.id, deleting);
        this.polls.set(instance.id, 0);
        return send(202, serviceInstanceViewSchema, deleting);
      }
    }
    if (kind === 'apps' && (key === APP.name || key === APP.id)) {
      if (!sub) return send(200, appViewSchema, APP);
      if (sub === 'deployments' && subKey) return this.deployment(subKey, send, fail);
      if (sub === 'service_bindings') return this.bindingRequest(req.method ?? '', subKey, body, find, list, send, fail);
    }
    fail(404, 'not-found', `the fake API has no ${req.method} ${url.pathname}`);
  }

  private create(body: Record<string, unknown>, send: Send, fail: Fail): void {
    const offering = OFFERINGS.find((o) => o.name === body.offering);
    if (!offering) return fail(422, 'unknown-offering', `there is no offering ${String(body.offering)}: the marketplace has ${OFFERINGS.map((o) => o.name).join(', ')}`);
    if (!offering.plans.some((p) => p.name === body.plan)) {
      return fail(422, 'unknown-plan', `${offering.name} has no plan ${String(body.plan)}: its plans are ${offering.plans.map((p) => p.name).join(', ')}`);
    }
    const view = this.seed(String(body.name), offering.name, typeof body.space_id === 'string' ? body.space_id : 's1', {
      plan: String(body.plan), status: null, cell_id: null,
      last_operation: { type: 'create', state: 'in progress', description: 'placing it on a cell', updated_at: TIME },
    });
    this.polls.set(view.id, 0);
    send(202, serviceInstanceViewSchema, view);
  }

  /** One more GET of an instance being created or deleted: its operation ends at the `pollsToEnd`th. */
  private advance(instance: ServiceInstanceView): ServiceInstanceView {
    const polls = this.polls.get(instance.id);
    if (polls === undefined || instance.last_operation.state !== 'in progress') return instance;
    this.polls.set(instance.id, polls + 1);
    if (polls + 1 < this.pollsToEnd) {
      const doing = { ...instance, last_operation: { ...instance.last_operation, description: instance.last_operation.type === 'create' ? 'starting the server on cell-1' : 'removing its volume' } };
      this.instances.set(instance.id, doing);
      return doing;
    }
    this.polls.delete(instance.id);
    const failed = instance.name.startsWith('broken');
    if (instance.last_operation.type === 'delete' && failed) {
      const stuck = { ...instance, last_operation: { ...instance.last_operation, state: 'failed' as const, description: 'cell-1 could not remove its volume: device busy' } };
      this.instances.set(instance.id, stuck);
      return stuck;
    }
    if (instance.last_operation.type === 'delete') {
      this.instances.delete(instance.id);
      return instance; // this GET still saw it; the next one is a 404
    }
    const done: ServiceInstanceView = {
      ...instance,
      status: failed ? null : 'available',
      cell_id: 'cell-1',
      last_operation: { type: 'create', state: failed ? 'failed' : 'succeeded', description: failed ? 'initdb failed: could not create directory "/data/pg": No space left on device' : null, updated_at: TIME },
    };
    this.instances.set(instance.id, done);
    return done;
  }

  private rollOut(fail: boolean): { release_version: number; deployment_id: string } {
    const id = `d${++this.release}`;
    this.deployments.set(id, { view: { id, release_id: `r${this.release}`, state: 'DEPLOYING', reason: null, created_at: TIME, updated_at: TIME }, fail, gets: 0 });
    return { release_version: this.release, deployment_id: id };
  }

  private deployment(id: string, send: Send, fail: Fail): void {
    const deployment = this.deployments.get(id);
    if (!deployment) return fail(404, 'not-found', `no deployment ${id}`);
    if (++deployment.gets >= 2) {
      deployment.view = deployment.fail ? { ...deployment.view, state: 'FAILED', reason: 'instance 0 crashed: exited with status 1' } : { ...deployment.view, state: 'DEPLOYED' };
    }
    send(200, deploymentViewSchema, deployment.view);
  }

  private bindingRequest(
    method: string,
    instanceKey: string | undefined,
    body: Record<string, unknown> | undefined,
    find: (key: string) => ServiceInstanceView | undefined,
    list: <S extends z.ZodType>(item: S, items: Array<z.infer<S>>) => void,
    send: Send,
    fail: Fail,
  ): void {
    if (method === 'GET') return list(serviceBindingViewSchema, this.bindings);
    const instance = find(String(method === 'POST' ? body?.service_instance : instanceKey));
    if (!instance) return;
    const bound = this.bindings.findIndex((b) => b.service_instance_id === instance.id);
    if (method === 'POST') {
      if (bound >= 0) return fail(409, 'already-bound', `${APP.name} is already bound to ${instance.name}`);
      const binding = serviceBindingViewSchema.parse({
        id: this.nextId(), app_id: APP.id, app_name: APP.name, service_instance_id: instance.id, service_instance_name: instance.name,
        offering: instance.offering, created_at: new Date(Date.parse(TIME) + this.ids * 1000).toISOString(),
      });
      this.bindings.push(binding);
      this.instances.set(instance.id, { ...instance, bound_apps: [...instance.bound_apps, APP.name] });
      return send(201, serviceBindingResultSchema, { binding, ...this.rollOut(instance.name.startsWith('crashy')) });
    }
    if (method === 'DELETE') {
      if (bound < 0) return fail(404, 'not-bound', `${APP.name} is not bound to ${instance.name}`);
      this.bindings.splice(bound, 1);
      this.instances.set(instance.id, { ...instance, bound_apps: instance.bound_apps.filter((a) => a !== APP.name) });
      return send(200, changeResultSchema, this.rollOut(false));
    }
    fail(405, 'method-not-allowed', `${method} is not allowed here`);
  }
}

type Send = <S extends z.ZodType>(status: number, schema: S, value: z.infer<S>) => void;
type Fail = (status: number, code: string, message: string) => void;

const CLI = join(__dirname, '..', 'main.js');

/** Runs the real `paas` binary against `api` (stdin not a terminal); its exit code and output. */
export function paas(api: FakeServicesApi, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, PAAS_API: api.url, PAAS_TOKEN: TOKEN, PAAS_CONFIG: '/nonexistent/paas.json', NO_COLOR: '1', COLUMNS: '200', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
