/**
 * For the CLI's backup specs: the backups and restores part of the services API (docs/api.md,
 * shapes in libs/contracts services.ts) as a small HTTP server on 127.0.0.1, every answer checked
 * against its schema before it is sent. Scripted: a backup (and a restore, and a create) ends
 * after `pollsToEnd` GETs; a backup of an instance whose name starts with `broken` fails, and so
 * does a restore of a backup whose instance's name starts with `broken`. `requests` records
 * every request (method, path with query, body).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { serviceBackupViewSchema, serviceInstanceViewSchema, type ServiceBackupView, type ServiceInstanceView } from '@paas/contracts';

const TIME = '2026-01-01T00:00:00.000Z';

export class FakeBackupsApi {
  readonly requests: Array<{ method: string; path: string; body: unknown }> = [];
  readonly instances = new Map<string, ServiceInstanceView>();
  readonly backups: ServiceBackupView[] = [];
  pollsToEnd = 2;
  private readonly polls = new Map<string, number>();
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

  nextId(): string {
    return `00000000-0000-4000-8000-${String(++this.ids).padStart(12, '0')}`;
  }

  seed(name: string, offering = 'postgresql'): ServiceInstanceView {
    const view = serviceInstanceViewSchema.parse({
      id: this.nextId(), name, type: 'managed', offering, plan: 'small', broker: 'built-in', tags: [], backup_retention: 7, usage: null, dashboard_url: null,
      space_id: 's1', space_name: 'dev', org_name: 'acme', last_operation: { type: 'create', state: 'succeeded', description: null, updated_at: TIME },
      status: 'available', status_reason: null, cell_id: 'cell-1', bound_apps: [], created_at: TIME, updated_at: TIME,
    });
    this.instances.set(view.id, view);
    return view;
  }

  seedBackup(instance: ServiceInstanceView, change: Partial<ServiceBackupView> = {}): ServiceBackupView {
    const backup = serviceBackupViewSchema.parse({
      id: this.nextId(), service_instance_id: instance.id, service_instance_name: instance.name, trigger: 'scheduled', state: 'succeeded',
      format: instance.offering === 'redis' ? 'rdb' : 'pg_dump', size_bytes: 2_400_000, sha256: 'a'.repeat(64), duration_ms: 1200, error: null,
      created_at: TIME, finished_at: TIME, ...change,
    });
    this.backups.unshift(backup);
    return backup;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body });
    const send = <S extends z.ZodType>(status: number, schema: S, value: z.infer<S>): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(schema.parse(value)));
    };
    const fail = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
    };
    const [, , kind, key, sub, subKey] = url.pathname.split('/').map(decodeURIComponent);
    if (kind !== 'service_instances') return fail(404, 'not-found', `the fake API has no ${url.pathname}`);
    if (!key && req.method === 'POST') return this.create(body ?? {}, send, fail);
    const instance = [...this.instances.values()].find((i) => i.id === key || i.name === key);
    if (!instance) return fail(404, 'not-found', `no service instance ${key}`);
    if (!sub && req.method === 'GET') return send(200, serviceInstanceViewSchema, this.advanceInstance(instance));
    if (sub === 'backups' && !subKey && req.method === 'GET') {
      return send(200, z.object({ resources: z.array(serviceBackupViewSchema) }), { resources: this.backups.filter((b) => b.service_instance_id === instance.id) });
    }
    if (sub === 'backups' && !subKey && req.method === 'POST') {
      if (this.backups.some((b) => b.service_instance_id === instance.id && b.state === 'in progress')) return fail(409, 'service-instance-not-ready', `a backup of ${instance.name} is in progress already`);
      const backup = this.seedBackup(instance, { trigger: 'manual', state: 'in progress', size_bytes: null, sha256: null, duration_ms: null, finished_at: null });
      this.polls.set(backup.id, 0);
      return send(202, serviceBackupViewSchema, backup);
    }
    const backup = this.backups.find((b) => b.id === subKey && b.service_instance_id === instance.id);
    if (sub === 'backups' && req.method === 'GET') return backup ? send(200, serviceBackupViewSchema, this.advanceBackup(backup)) : fail(404, 'not-found', `no backup ${subKey}`);
    if (sub === 'backups' && req.method === 'DELETE') {
      if (!backup) return fail(404, 'not-found', `no backup ${subKey}`);
      this.backups.splice(this.backups.indexOf(backup), 1);
      res.writeHead(204).end();
      return;
    }
    if (sub === 'restores' && req.method === 'POST') {
      const source = this.backups.find((b) => b.id === body?.backup_id);
      if (!source) return fail(404, 'not-found', `no backup ${String(body?.backup_id)}`);
      if (instance.last_operation.state === 'in progress') return fail(409, 'service-instance-not-ready', `service instance ${instance.name} has another operation in progress`);
      const restoring = { ...instance, last_operation: { type: 'restore' as const, state: 'in progress' as const, description: `restoring backup ${source.id}`, updated_at: TIME } };
      this.instances.set(instance.id, restoring);
      this.polls.set(instance.id, 0);
      this.restoring.set(instance.id, source);
      return send(202, serviceInstanceViewSchema, restoring);
    }
    fail(404, 'not-found', `the fake API has no ${req.method} ${url.pathname}`);
  }

  private readonly restoring = new Map<string, ServiceBackupView>();

  private create(body: Record<string, unknown>, send: Send, fail: (status: number, code: string, message: string) => void): void {
    const from = this.backups.find((b) => b.id === body.restore_from_backup);
    if (body.restore_from_backup !== undefined && !from) return fail(404, 'not-found', `no backup ${String(body.restore_from_backup)}`);
    const view = this.seed(String(body.name), String(body.offering));
    const creating = { ...view, status: null, last_operation: { type: 'create' as const, state: 'in progress' as const, description: from ? `restoring backup ${from.id}` : 'starting', updated_at: TIME } };
    this.instances.set(view.id, creating);
    this.polls.set(view.id, 0);
    send(202, serviceInstanceViewSchema, creating);
  }

  private tick(id: string): boolean {
    const polls = this.polls.get(id);
    if (polls === undefined) return false;
    this.polls.set(id, polls + 1);
    if (polls + 1 < this.pollsToEnd) return false;
    this.polls.delete(id);
    return true;
  }

  private advanceInstance(instance: ServiceInstanceView): ServiceInstanceView {
    if (instance.last_operation.state !== 'in progress' || !this.tick(instance.id)) return instance;
    const source = this.restoring.get(instance.id);
    const failed = instance.last_operation.type === 'restore' && source?.service_instance_name.startsWith('broken');
    const description = failed ? `restoring backup ${source!.id} failed: pg_restore exited with code 1: relation "notes" already exists; the instance keeps its data as it was` : null;
    const done = { ...instance, status: 'available' as const, last_operation: { ...instance.last_operation, state: failed ? ('failed' as const) : ('succeeded' as const), description } };
    this.instances.set(instance.id, done);
    return done;
  }

  private advanceBackup(backup: ServiceBackupView): ServiceBackupView {
    if (backup.state !== 'in progress' || !this.tick(backup.id)) return backup;
    const failed = backup.service_instance_name.startsWith('broken');
    const done: ServiceBackupView = failed
      ? { ...backup, state: 'failed', duration_ms: 300, error: 'pg_dump exited with code 1: connection refused', finished_at: TIME }
      : { ...backup, state: 'succeeded', size_bytes: 5_300_000, sha256: 'b'.repeat(64), duration_ms: 2500, finished_at: TIME };
    this.backups[this.backups.indexOf(backup)] = done;
    return done;
  }
}

type Send = <S extends z.ZodType>(status: number, schema: S, value: z.infer<S>) => void;
