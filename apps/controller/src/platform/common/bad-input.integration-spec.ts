/**
 * Bad input is a 4xx, as a user would send it: a NUL or a lone surrogate in an env value, a token
 * name, a process command or health endpoint, in a path or a query parameter; ids that are not
 * ids; git paths with "..", encoded or not; a manifest.yml with a NUL in an env value. Each answer
 * is a 400 (or 404) with the error body naming the field and the rule, and nothing changed in the
 * database. Last, Postgres stopped under the controller: 503 database-unavailable with
 * Retry-After, and the API answers again once it is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { CellJobName, errorBodySchema } from '@paas/contracts';
import { pollUntil, waitForPostgres } from '@paas/local-services';
import { adminActor, startControllerHarness, type ApiResponse, type ControllerHarness } from '../../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../../testing/cell-agent';
import { cellJobs } from '../../testing/cell-jobs';
import { pushThroughHook } from '../../testing/push';
import { createApp, createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../../testing/tenancy-fixtures';
import { PrismaService } from '../database/prisma.service';
import { tarOf } from '../../testing/source-tar';

/** Every row of every table, as text: what "nothing changed" compares. */
async function snapshot(prisma: PrismaService): Promise<Record<string, string[]>> {
  const tables = await prisma.$queryRawUnsafe<Array<{ name: string }>>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    const rows = await prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT to_jsonb(t)::text AS row FROM "${name}" t ORDER BY 1`);
    out[name] = rows.map((r) => r.row);
  }
  return out;
}

/** A GET with a raw path (no URL normalisation of ".." or "%2e%2e"), as curl --path-as-is sends it. */
function rawGet(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; type: string; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${path}`)));
    req.on('error', reject);
    req.end();
  });
}


/** A 400 validation-failed whose details name the field, with a rule matching `rule`. */
function expectInvalid(res: ApiResponse, field: string, rule: RegExp, what: string): void {
  assert.equal(res.status, 400, `${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  assert.ok(errorBodySchema.safeParse(res.body).success, `${what}: the error shape`);
  assert.equal(res.body.error.code, 'validation-failed', what);
  const detail = (res.body.error.details as Array<{ field: string; rule: string }>).find((d) => d.field === field);
  assert.ok(detail, `${what}: details name ${field}: ${JSON.stringify(res.body.error.details)}`);
  assert.match(detail.rule, rule, what);
  assert.match(res.body.error.message, new RegExp(`${field.replace(/[.[\]\\]/g, '\\$&')}: `), `${what}: the message names ${field}`);
}

const NUL = /must not contain a NUL character/;
const SURROGATE = /must be well-formed Unicode: it has a lone UTF-16 surrogate/;
const CONTROL = /must not contain control characters/;

describe('every bad input is a 4xx, and nothing changes', () => {
  let h: ControllerHarness;
  let prisma: PrismaService;
  let cell: CellAgentProcess;
  let dev: TestUser;
  let spaceId: string;
  let before0: Record<string, string[]>;

  before(async () => {
    h = await startControllerHarness();
    prisma = h.app.get(PrismaService);
    cell = await startCellAgent(h, 'fake-bad-input');
    const org = await createOrg(h, 'bad-input');
    spaceId = await createSpace(h, org, 'bad-input');
    dev = await createUser(h, 'bad-input-dev');
    await grant(h, spaceId, dev, 'developer');
    await createApp(h, spaceId, 'shop');
    expectStatus(await h.call('PATCH', '/v1/apps/shop/env', { var: { KEEP: 'kept' } }), 202, 'set env');
    before0 = await snapshot(prisma);
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  for (const [who, token] of [
    ['admin', () => h.adminToken],
    ['developer', () => dev.token],
  ] as const) {
    test(`${who}: a NUL, a lone surrogate or a control character in an env value or name is a 400 naming var.NAME`, async () => {
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/env', { var: { A: 'x\u0000y' } }, token()), 'var.A', NUL, 'NUL in a value');
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/env', { var: { A: 'x\ud800y' } }, token()), 'var.A', SURROGATE, 'high surrogate');
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/env', { var: { A: '\udc00' } }, token()), 'var.A', SURROGATE, 'low surrogate');
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/env', { var: { A: 'a\u001bb' } }, token()), 'var.A', CONTROL, 'escape character');
      // Names keep the message they had: the name rule.
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/env', { var: { 'A\u0000': 'x' } }, token()), 'var.A\u0000', /variable names are letters/, 'NUL in a name');
      // A good value beside a bad one: nothing is set.
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/env', { var: { GOOD: 'yes', BAD: '\u0000' } }, token()), 'var.BAD', NUL, 'one bad of two');
      assert.deepEqual(expectStatus(await h.call('GET', '/v1/apps/shop/env', undefined, token()), 200).body.var, { KEEP: 'kept' });
    });

    test(`${who}: a NUL or a lone surrogate in a process command or health check endpoint is a 400`, async () => {
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/processes/web', { command: 'node \u0000 server.js' }, token()), 'command', NUL, 'NUL in command');
      expectInvalid(await h.call('PATCH', '/v1/apps/shop/processes/web', { command: 'node \ud83d' }, token()), 'command', SURROGATE, 'surrogate in command');
      expectInvalid(
        await h.call('PATCH', '/v1/apps/shop/processes/web', { health_check: { type: 'http', endpoint: '/health\u0000' } }, token()),
        'health_check.endpoint',
        NUL,
        'NUL in endpoint',
      );
      expectInvalid(
        await h.call('PATCH', '/v1/apps/shop/processes/web', { health_check: { type: 'http', endpoint: '/\udfff' } }, token()),
        'health_check.endpoint',
        SURROGATE,
        'surrogate in endpoint',
      );
    });

    test(`${who}: path and query parameters: NUL is a 400 naming the parameter; a bad id filter is a 400`, async () => {
      expectInvalid(await h.call('GET', '/v1/apps/%00', undefined, token()), 'app', NUL, 'GET /v1/apps/%00');
      expectInvalid(await h.call('GET', '/v1/apps/shop%00/env', undefined, token()), 'app', NUL, 'GET /v1/apps/shop%00/env');
      expectInvalid(await h.call('PATCH', '/v1/apps/%00/env', { var: { A: 'b' } }, token()), 'app', NUL, 'PATCH /v1/apps/%00/env');
      expectInvalid(await h.call('GET', '/v1/apps/shop/processes/%01', undefined, token()), 'type', CONTROL, 'control character in :type');
      expectInvalid(await h.call('GET', '/v1/apps?names=%00', undefined, token()), 'names', NUL, '?names=%00');
      expectInvalid(await h.call('GET', '/v1/apps?names=a%0Ab', undefined, token()), 'names', CONTROL, 'a line break in ?names=');
      expectInvalid(await h.call('GET', '/v1/orgs?names=x&names=%00', undefined, token()), 'names', NUL, 'repeated ?names=');
      expectInvalid(await h.call('GET', '/v1/apps?space_ids=x', undefined, token()), 'space_ids', /UUIDs/, '?space_ids=x');
      expectInvalid(await h.call('GET', `/v1/apps?space_ids=${spaceId},nope`, undefined, token()), 'space_ids', /UUIDs/, 'one bad id of two');
      // Bytes that are not UTF-8 (a CESU-8 surrogate, a lone 0xFF) in a path: a 400 too.
      for (const path of ['/v1/apps/%ED%A0%80', '/v1/apps/%FF']) {
        const res = await h.call('GET', path, undefined, token());
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'validation-failed');
      }
      // A non-UUID where an id is expected is a 404 naming the thing, as before.
      assert.equal((await h.call('GET', '/v1/spaces/not-an-id', undefined, token())).status, 404);
      assert.equal((await h.call('GET', '/v1/apps/shop/deployments/not-an-id', undefined, token())).status, 404);
    });

    test(`${who}: a NUL or a lone surrogate in a token name is a 400`, async () => {
      const me = expectStatus(await h.call('GET', '/v1/users/me', undefined, token()), 200).body.id as string;
      expectInvalid(await h.call('POST', `/v1/users/${me}/tokens`, { name: 'ci\u0000' }, token()), 'name', NUL, 'NUL in a token name');
      expectInvalid(await h.call('POST', `/v1/users/${me}/tokens`, { name: 'ci\ud800' }, token()), 'name', SURROGATE, 'surrogate in a token name');
    });
  }

  test('a body that is not JSON where JSON is taken is a 415, not an empty body', async () => {
    const res = await fetch(`${h.url}/v1/apps/shop/processes/web`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ command: 'x' }),
    });
    assert.equal(res.status, 415);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unsupported-media-type');
    assert.match(body.error.message, /Content-Type: application\/json/);
    const broken = await fetch(`${h.url}/v1/apps/shop/env`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: '{"var": {"A": ',
    });
    assert.equal(broken.status, 400);
    assert.equal(((await broken.json()) as { error: { code: string } }).error.code, 'validation-failed');
  });

  test('git paths with "..", encoded or not, or a NUL are refused before git sees them', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`x:${h.adminToken}`).toString('base64')}` };
    const good = await rawGet(h.url, '/git/shop.git/info/refs?service=git-upload-pack', auth);
    assert.equal(good.status, 200, good.text);
    for (const path of [
      '/git/shop.git/../x.git/info/refs?service=git-upload-pack',
      '/git/shop.git/../../etc/passwd',
      '/git/shop.git/objects/../../../../etc/passwd',
      '/git/shop.git/%2e%2e/%2e%2e/info/refs',
      '/git/shop.git/info/%2E%2E/refs',
      '/git/shop.git/info/refs%00?service=git-upload-pack',
      '/git/shop.git/%2e%2e%2fconfig',
    ]) {
      const res = await rawGet(h.url, path, auth);
      assert.equal(res.status, 400, `${path}: ${res.status} ${res.text}`);
      assert.match(res.type, /^text\/plain/, path);
      assert.match(res.text, /^bad git path: /, path);
    }
    const service = await rawGet(h.url, '/git/shop.git/info/refs?service=%00', auth);
    assert.equal(service.status, 400);
    assert.match(service.text, /service= is git-upload-pack or git-receive-pack/);
    for (const path of ['/git/shop.git/config', '/git/shop.git/hooks/pre-receive', '/git/../x.git/info/refs', '/git/%2e%2e/x.git/info/refs']) {
      const res = await rawGet(h.url, path, auth);
      assert.equal(res.status, 404, `${path}: ${res.status} ${res.text}`);
    }
  });

  test('a manifest.yml with a NUL in an env value is refused before staging, naming the key path', async () => {
    const builds = async () => expectStatus(await h.call('GET', '/v1/apps/shop/builds'), 200).body.resources as Array<{ state: string; error: string | null }>;
    const buildsBefore = (await builds()).length;
    const tar = await tarOf({ 'manifest.yml': 'applications:\n- name: shop\n  env:\n    GREETING: "hello\\0world"\n', 'server.js': 'require("http")' });
    const push = await pushThroughHook(h.url, h.internalToken, 'shop', await adminActor(h), tar);
    assert.equal(push.ok, false, push.text);
    assert.match(push.text, /manifest\.yml: applications\[0\]\.env\.GREETING: must not contain a NUL character/);
    assert.doesNotMatch(push.text, /Buildpack|invalid byte sequence|internal error/, 'nothing was staged, and no database error');
    assert.equal((await cellJobs(h, cell.id, CellJobName.Stage)).length, 0, 'no staging job reached the cell');
    const after = await builds();
    assert.ok(after.length <= buildsBefore + 1);
    assert.ok(after.every((b) => b.state !== 'STAGED'));
    assert.equal(expectStatus(await h.call('GET', '/v1/apps/shop/releases'), 200).body.resources.length, 0, 'no release');
    assert.deepEqual(expectStatus(await h.call('GET', '/v1/apps/shop/env'), 200).body.var, { KEEP: 'kept' });
  });

  test('nothing changed in the database but the refused push\'s build record', async () => {
    const now = await snapshot(prisma);
    for (const table of Object.keys(before0)) {
      if (table === 'builds' || table === 'build_log_lines' || table === 'events') continue;
      assert.deepEqual(now[table], before0[table], `table ${table} is unchanged`);
    }
  });

  test('multi-line values and non-Latin text are still fine, for an admin and a developer', async () => {
    const value = '-----BEGIN KEY-----\nabc\tdef\r\n-----END KEY-----\n Grüße 世界 \u{1F680}';
    for (const token of [h.adminToken, dev.token]) {
      expectStatus(await h.call('PATCH', '/v1/apps/shop/env', { var: { PEM: value } }, token), 202, 'multi-line value');
      assert.equal(expectStatus(await h.call('GET', '/v1/apps/shop/env', undefined, token), 200).body.var.PEM, value);
      expectStatus(await h.call('PATCH', '/v1/apps/shop/env', { var: { PEM: null } }, token), 202, 'unset');
    }
  });

  test('Postgres stopped: 503 database-unavailable with Retry-After; the API answers again once it is back', async () => {
    // A fast shutdown (SIGINT after the supervisor's SIGTERM): the controller's open connections are cut at once.
    const postgres = h.dataServices.postgres;
    const pid = postgres.pid;
    const stopped = postgres.stop();
    if (pid) process.kill(pid, 'SIGINT');
    await stopped;
    try {
      for (const [method, path, body] of [
        ['GET', '/v1/apps', undefined],
        ['GET', '/v1/apps/shop/env', undefined],
        ['PATCH', '/v1/apps/shop/env', { var: { A: 'b' } }],
        ['POST', '/v1/orgs', { name: 'while-down' }],
      ] as const) {
        const res = await h.call(method, path, body);
        assert.equal(res.status, 503, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'database-unavailable');
        assert.match(res.body.error.message, /out of reach, so nothing was done: try again in \d+ s/);
        assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After in seconds');
      }
    } finally {
      postgres.start();
    }
    await waitForPostgres(Number(new URL(h.databaseUrl).port), h.dataServices.postgresLogin);
    const back = await pollUntil('the API to answer again', async () => {
      const res = await h.call('GET', '/v1/apps/shop/env');
      return res.status === 200 ? res : undefined;
    });
    assert.deepEqual(back.body.var, { KEEP: 'kept' });
    assert.equal((await h.call('GET', '/v1/orgs?names=while-down')).body.resources.length, 0, 'nothing was written while it was down');
  });
});
