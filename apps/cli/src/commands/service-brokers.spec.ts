/**
 * The user-provided service and service broker commands, run as the real `paas` binary against a
 * small fake API on 127.0.0.1 that records each request and answers in the shared schemas: what
 * each command sends (credentials from JSON, a file or stdin; a broker's password from an env
 * variable or stdin, never argv), what it prints, and its exit codes.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceBrokerViewSchema, serviceInstanceViewSchema, serviceOfferingViewSchema, type ServiceBrokerView } from '@paas/contracts';
import { parseCredentials, parseTags } from './user-provided-services';

const TIME = '2026-01-01T00:00:00.000Z';
const TOKEN = 'brk-t0k';
const CLI = join(__dirname, '..', 'main.js');

interface Recorded {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

const requests: Recorded[] = [];
const brokers = new Map<string, ServiceBrokerView>();
let server: Server;
let url = '';
let dir: string;

function instanceView(name: string, change: Record<string, unknown> = {}) {
  return serviceInstanceViewSchema.parse({
    id: '00000000-0000-4000-8000-000000000001', name, type: 'user-provided', offering: 'user-provided', plan: '', broker: null, tags: [],
    backup_retention: null, usage: null, dashboard_url: null, space_id: 's1', space_name: 'dev', org_name: 'acme',
    last_operation: { type: 'create', state: 'succeeded', description: null, updated_at: TIME },
    status: null, status_reason: null, cell_id: null, bound_apps: ['shop'], created_at: TIME, updated_at: TIME, ...change,
  });
}

function brokerView(name: string, body: Record<string, unknown>): ServiceBrokerView {
  return serviceBrokerViewSchema.parse({ id: `id-${name}`, name, url: String(body.url ?? 'http://broker.test'), username: String(body.username ?? 'u'), offerings: ['test-db'], created_at: TIME, updated_at: TIME });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paas-cli-brokers-'));
  server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? '', path, body });
    const send = (status: number, value?: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(value === undefined ? '' : JSON.stringify(value));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: { code: 'unauthenticated', message: 'no such token' } });
    const [, , kind, key] = path.split('/');
    if (kind === 'service_offerings') {
      return send(200, {
        resources: [
          serviceOfferingViewSchema.parse({ name: 'test-db', description: 'a database of the test broker', tags: ['test'], version: '', broker: 'b1', plans: [{ name: 'sync', offering: 'test-db', description: 'at once', memory_mb: 0, disk_mb: 0, free: true }] }),
        ],
      });
    }
    if (kind === 'service_instances' && req.method === 'POST') return send(202, instanceView(String(body?.name), { tags: body?.tags ?? [] }));
    if (kind === 'service_instances' && req.method === 'GET' && key === 'bdb') {
      return send(200, instanceView('bdb', { type: 'brokered', offering: 'test-db', plan: 'sync', broker: 'b1', dashboard_url: 'https://broker.test/dash/1' }));
    }
    if (kind === 'service_instances' && req.method === 'GET') return send(200, instanceView(decodeURIComponent(key!)));
    if (kind === 'service_instances' && req.method === 'PATCH') return send(200, instanceView('ups', { last_operation: { type: 'update', state: 'succeeded', description: null, updated_at: TIME } }));
    if (kind === 'service_brokers' && !key && req.method === 'GET') return send(200, { resources: [...brokers.values()] });
    if (kind === 'service_brokers' && !key && req.method === 'POST') {
      const view = brokerView(String(body?.name), body ?? {});
      brokers.set(view.name, view);
      return send(201, view);
    }
    if (kind === 'service_brokers' && key && req.method === 'PATCH') return send(200, brokerView(String(body?.name ?? key), body ?? {}));
    if (kind === 'service_brokers' && key && req.method === 'DELETE') {
      if (key === 'busy') return send(409, { error: { code: 'service-instance-in-use', message: 'broker busy still has service instances: bdb; delete them first' } });
      return send(204);
    }
    send(404, { error: { code: 'not-found', message: `no ${req.method} ${path}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests.length = 0;
  brokers.clear();
});

/** Runs the real binary (stdin not a terminal, fed `stdin`). */
function paas(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, PAAS_API: url, PAAS_TOKEN: TOKEN, PAAS_CONFIG: '/nonexistent/paas.json', NO_COLOR: '1', COLUMNS: '200', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(options.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
const posts = (path: string) => requests.filter((r) => r.method === 'POST' && r.path === path);

test('cups sends the credentials and tags as a user-provided instance; -p takes JSON, @FILE or - (stdin)', async () => {
  const inline = await paas(['cups', 'ups', '-p', '{"uri":"postgres://u:p@db:5432/x","port":5432}', '-t', 'sql, external']);
  assert.equal(inline.code, 0, said(inline));
  assert.deepEqual(posts('/v1/service_instances')[0].body, { type: 'user-provided', name: 'ups', credentials: { uri: 'postgres://u:p@db:5432/x', port: 5432 }, tags: ['sql', 'external'] });
  assert.match(inline.stdout, /created user-provided service ups in acme\/dev \(2 credentials\)/);
  const file = join(dir, 'creds.json');
  await writeFile(file, '{"uri":"from-file"}');
  const fromFile = await paas(['create-user-provided-service', 'ups2', '-p', `@${file}`]);
  assert.equal(fromFile.code, 0, said(fromFile));
  assert.deepEqual(posts('/v1/service_instances')[1].body, { type: 'user-provided', name: 'ups2', credentials: { uri: 'from-file' } });
  const fromStdin = await paas(['cups', 'ups3', '-p', '-'], { stdin: '{"password":"from-stdin"}\n' });
  assert.equal(fromStdin.code, 0, said(fromStdin));
  assert.deepEqual(posts('/v1/service_instances')[2].body?.credentials, { password: 'from-stdin' });
});

test('cups refuses credentials that are not a flat JSON object before asking the API', async () => {
  const notJson = await paas(['cups', 'ups', '-p', '{uri: x}']);
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /the credentials \(-p\) is not JSON/);
  const nested = await paas(['cups', 'ups', '-p', '{"a":{"b":1}}']);
  assert.equal(nested.code, 1);
  assert.match(nested.stderr, /a must be a string or a number, not object/);
  const missing = await paas(['cups', 'ups', '-p', '@/nonexistent/creds.json']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read the credentials file \/nonexistent\/creds\.json: ENOENT/);
  assert.equal(posts('/v1/service_instances').length, 0);
  assert.equal((await paas(['cups', 'ups'])).code, 2, '-p is required');
});

test('uups patches the credentials and/or tags and says restarting bound apps takes them; nothing to update is a usage error', async () => {
  const updated = await paas(['uups', 'ups', '-p', '{"uri":"new"}', '-t', 'a']);
  assert.equal(updated.code, 0, said(updated));
  const patch = requests.find((r) => r.method === 'PATCH')!;
  assert.equal(patch.path, '/v1/service_instances/00000000-0000-4000-8000-000000000001');
  assert.deepEqual(patch.body, { credentials: { uri: 'new' }, tags: ['a'] });
  assert.match(updated.stderr, /shop get the new credentials once restarted: paas restart shop/);
  const nothing = await paas(['update-user-provided-service', 'ups']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /give -p CREDENTIALS and\/or -t TAGS/);
});

test('create-service-broker takes the password from --password-env or stdin, never from argv', async () => {
  const fromEnv = await paas(['create-service-broker', 'b1', 'admin', 'http://broker.test', '--password-env', 'BROKER_PW'], { env: { BROKER_PW: 's3cret-env' } });
  assert.equal(fromEnv.code, 0, said(fromEnv));
  assert.deepEqual(posts('/v1/service_brokers')[0].body, { name: 'b1', url: 'http://broker.test', username: 'admin', password: 's3cret-env' });
  assert.match(fromEnv.stdout, /registered service broker b1 at http:\/\/broker\.test: offerings test-db/);
  const fromStdin = await paas(['create-service-broker', 'b2', 'admin', 'http://broker.test'], { stdin: 's3cret-stdin\n' });
  assert.equal(fromStdin.code, 0, said(fromStdin));
  assert.equal(posts('/v1/service_brokers')[1].body?.password, 's3cret-stdin');
  const unset = await paas(['create-service-broker', 'b3', 'admin', 'http://broker.test', '--password-env', 'NOT_SET_ANYWHERE']);
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /NOT_SET_ANYWHERE \(--password-env\) is not set/);
  const none = await paas(['create-service-broker', 'b3', 'admin', 'http://broker.test']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no password/);
  assert.equal(posts('/v1/service_brokers').length, 2);
  assert.equal((await paas(['create-service-broker', 'b3', 'admin', 'pw', 'http://broker.test'])).code, 2, 'a password given as an argument is a usage error');
});

test('service-brokers lists them; update-service-broker patches what it is given; delete-service-broker asks, or -f', async () => {
  await paas(['create-service-broker', 'b1', 'admin', 'http://broker.test', '--password-env', 'PW'], { env: { PW: 'x' } });
  const listed = await paas(['service-brokers']);
  assert.equal(listed.code, 0, said(listed));
  assert.match(listed.stdout, /^name\s+url\s+username\s+offerings\s+updated$/m);
  assert.match(listed.stdout, /^b1\s+http:\/\/broker\.test\s+admin\s+test-db\s+/m);
  const update = await paas(['update-service-broker', 'b1', '--url', 'https://new.test', '--password-stdin'], { stdin: 'newpw\n' });
  assert.equal(update.code, 0, said(update));
  const patch = requests.find((r) => r.method === 'PATCH')!;
  assert.equal(patch.path, '/v1/service_brokers/b1');
  assert.deepEqual(patch.body, { url: 'https://new.test', password: 'newpw' });
  const refresh = await paas(['update-service-broker', 'b1']);
  assert.equal(refresh.code, 0, said(refresh));
  assert.deepEqual(requests.filter((r) => r.method === 'PATCH')[1].body, {});
  const asked = await paas(['delete-service-broker', 'b1']);
  assert.equal(asked.code, 1);
  assert.match(asked.stderr, /no terminal to ask/);
  assert.equal((await paas(['delete-service-broker', 'b1', '-f'])).code, 0);
  assert.ok(requests.some((r) => r.method === 'DELETE' && r.path === '/v1/service_brokers/b1'));
  const busy = await paas(['delete-service-broker', 'busy', '-f']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /still has service instances: bdb/);
});

test('marketplace names the broker of each offering', async () => {
  const market = await paas(['marketplace']);
  assert.equal(market.code, 0, said(market));
  assert.match(market.stdout, /^test-db\s+sync\s+a database of the test broker\s+b1$/m);
});

test('service NAME shows the type, the broker and its dashboard', async () => {
  const ups = await paas(['service', 'ups']);
  assert.equal(ups.code, 0, said(ups));
  assert.match(ups.stdout, /^plan:\s+-$/m);
  assert.match(ups.stdout, /^type:\s+user-provided$/m);
  const bdb = await paas(['service', 'bdb']);
  assert.equal(bdb.code, 0, said(bdb));
  assert.match(bdb.stdout, /^type:\s+brokered \(broker b1\)$/m);
  assert.match(bdb.stdout, /^dashboard:\s+https:\/\/broker\.test\/dash\/1$/m);
});

test('parseCredentials and parseTags', () => {
  assert.deepEqual(parseCredentials('{"a":"x","b":2}', 'w'), { a: 'x', b: 2 });
  assert.throws(() => parseCredentials('[1]', 'w'), /must be a JSON object/);
  assert.throws(() => parseCredentials('{"a":null}', 'w'), /a must be a string or a number, not null/);
  assert.deepEqual(parseTags(' a, b ,,c'), ['a', 'b', 'c']);
});
