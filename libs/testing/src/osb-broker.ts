import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small Open Service Broker (API v2.17) for the tests: a real HTTP server on 127.0.0.1 with basic
 * auth, speaking the calls the controller makes, and recording every request it got (method, path,
 * query, headers, body) so a test can assert the wire format.
 *
 * Its catalog has one bindable offering `test-db` (tags test, sql) with three plans:
 * - `sync`: provision and deprovision answer 201 / 200 at once;
 * - `async`: provision and deprovision answer 202 with an operation; last_operation then says
 *   `in progress` once and `succeeded` after (a deprovisioned instance's last_operation is 410);
 * - `refused`: provision answers 400 with a description;
 * - `unbindable`: as `sync`, but the catalog says it is not bindable.
 * Bind answers 201 with credentials `{ uri, username, password }` of the binding; unbind 200 (410
 * for a binding it does not know). `catalog` replaces the catalog (e.g. with garbage), and
 * `bindCredentials` what binds answer. Not safe for concurrent tests sharing one instance's records.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export const TEST_BROKER_SERVICE_ID = 'svc-test-db-0001';
export const TEST_BROKER_PLAN_IDS = { sync: 'plan-sync-0001', async: 'plan-async-0001', refused: 'plan-refused-0001', unbindable: 'plan-unbindable-0001' } as const;

export function testBrokerCatalog(serviceName = 'test-db') {
  return {
    services: [
      {
        id: TEST_BROKER_SERVICE_ID,
        name: serviceName,
        description: 'a database of the test broker',
        bindable: true,
        tags: ['test', 'sql'],
        metadata: { displayName: 'Test DB' },
        plans: [
          { id: TEST_BROKER_PLAN_IDS.sync, name: 'sync', description: 'provisioned at once', free: true },
          { id: TEST_BROKER_PLAN_IDS.async, name: 'async', description: 'provisioned asynchronously', free: false },
          { id: TEST_BROKER_PLAN_IDS.refused, name: 'refused', description: 'always refused', free: true },
          { id: TEST_BROKER_PLAN_IDS.unbindable, name: 'unbindable', description: 'provisioned at once, not bindable', free: true, bindable: false },
        ],
      },
    ],
  };
}

interface InstanceState {
  planId: string;
  /** last_operation answers still `in progress` before `succeeded`. */
  pendingPolls: number;
  operation: 'provision' | 'deprovision' | null;
  gone: boolean;
}

export class TestOsbBroker {
  readonly requests: RecordedRequest[] = [];
  readonly instances = new Map<string, InstanceState>();
  readonly bindings = new Map<string, { instanceId: string; appGuid: string }>();
  /** What GET /v2/catalog answers (JSON-encoded unless a string). */
  catalog: unknown = testBrokerCatalog();
  /** What binds answer as credentials (default: a uri, username and password of the binding). */
  bindCredentials: ((bindingId: string) => unknown) | undefined;
  private server: Server | undefined;
  private port = 0;

  constructor(
    readonly username = 'broker-user',
    readonly password = 'broker-secret-7',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on 127.0.0.1 at `port` (default: a free one; give the old one to start again where it was). */
  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests recorded for `method` on paths starting with `prefix`. */
  requestsTo(method: string, prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://broker');
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body });
    const send = (status: number, answer: unknown) => {
      const payload = typeof answer === 'string' ? answer : JSON.stringify(answer);
      res.writeHead(status, { 'content-type': 'application/json' }).end(payload);
    };
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return send(401, { description: 'bad credentials' });
    if (!req.headers['x-broker-api-version']) return send(412, { description: 'X-Broker-API-Version is required' });
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && url.pathname === '/v2/catalog') return send(200, this.catalog);
    if (parts[0] !== 'v2' || parts[1] !== 'service_instances' || !parts[2]) return send(404, { description: 'no such endpoint' });
    const instanceId = parts[2];
    const instance = this.instances.get(instanceId);
    const input = (body ?? {}) as Record<string, unknown>;
    if (parts.length === 3 && req.method === 'PUT') {
      const planId = String(input.plan_id);
      if (planId === TEST_BROKER_PLAN_IDS.refused) return send(400, { error: 'PlanRefused', description: 'the refused plan is never provisioned' });
      if (url.searchParams.get('accepts_incomplete') !== 'true' && planId === TEST_BROKER_PLAN_IDS.async) return send(422, { error: 'AsyncRequired' });
      const async = planId === TEST_BROKER_PLAN_IDS.async;
      this.instances.set(instanceId, { planId, pendingPolls: async ? 1 : 0, operation: async ? 'provision' : null, gone: false });
      const dashboard_url = `${this.url}/dashboard/${instanceId}`;
      return async ? send(202, { dashboard_url, operation: `provision-${instanceId}` }) : send(201, { dashboard_url });
    }
    if (parts.length === 3 && req.method === 'DELETE') {
      if (!instance || instance.gone) return send(410, {});
      if (instance.planId === TEST_BROKER_PLAN_IDS.async) {
        instance.operation = 'deprovision';
        instance.pendingPolls = 1;
        return send(202, { operation: `deprovision-${instanceId}` });
      }
      this.instances.delete(instanceId);
      return send(200, {});
    }
    if (parts[3] === 'last_operation' && req.method === 'GET') {
      if (!instance) return send(410, {});
      if (instance.pendingPolls > 0) {
        instance.pendingPolls -= 1;
        return send(200, { state: 'in progress', description: `${instance.operation} under way` });
      }
      if (instance.operation === 'deprovision') {
        this.instances.delete(instanceId);
        return send(410, {});
      }
      return send(200, { state: 'succeeded', description: 'ready' });
    }
    if (parts[3] === 'service_bindings' && parts[4]) {
      const bindingId = parts[4];
      if (req.method === 'PUT') {
        if (!instance) return send(404, { description: 'no such instance' });
        const appGuid = String((input.bind_resource as Record<string, unknown> | undefined)?.app_guid ?? input.app_guid);
        this.bindings.set(bindingId, { instanceId, appGuid });
        const credentials = this.bindCredentials?.(bindingId) ?? { uri: `testdb://u-${bindingId}:p-${bindingId}@db.test.invalid/${instanceId}`, username: `u-${bindingId}`, password: `p-${bindingId}` };
        return send(201, { credentials });
      }
      if (req.method === 'DELETE') {
        if (!this.bindings.delete(bindingId)) return send(410, {});
        return send(200, {});
      }
    }
    return send(404, { description: 'no such endpoint' });
  }
}
