/**
 * Hostnames and paths, as the second tenant attacks them (issue 12, items 3 and 4), on a whole
 * isolated platform: the bank (org bank) runs two real apps on its host, `/` and `/api`; the
 * attacker (org evil, a developer of its own space) tries to take `/api` of the bank's host through
 * the API and the CLI, then sends the path spellings that used to reach the wrong app through the
 * real router, over raw sockets so no client normalizes them first. The variations are in the
 * routes integration spec and the router's routing-paths integration spec.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { ROUTER_ERROR_HEADER } from '@paas/contracts';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');

/** One request written byte for byte on a fresh connection to the router; the reply read until close. */
function rawGet(port: number, host: string, target: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1'));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to GET ${target}`)));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
  });
}

describe('security: a host belongs to one space, paths have one normal form', () => {
  let platform: TestPlatform;
  let work: string;
  let bankSpace: string;
  let evilSpace: string;
  let attackerToken: string;
  let domainId: string;
  let bankHost: string;

  const remote = (name: string) => `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`;
  const ok = <T extends { status: number; json: unknown }>(res: T, status: number, what: string): T => {
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
    return res;
  };

  /** Creates the app in a space and pushes examples/hello-node to it, until it answers through the router. */
  async function pushHello(name: string, spaceId: string, noRoute = false): Promise<string> {
    const app = ok(await api(platform, 'POST', '/v1/apps', { name, space_id: spaceId, no_route: noRoute }), 201, `create ${name}`).json;
    const dir = join(work, name);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    const pushed = await git(['push', remote(name), 'main'], dir);
    assert.equal(pushed.code, 0, pushed.output);
    return app.id as string;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-sec-routes-'));
    platform = await startIsolatedPlatform(1);
    const bankOrg = ok(await api(platform, 'POST', '/v1/orgs', { name: 'bank' }), 201, 'org bank').json.id;
    const evilOrg = ok(await api(platform, 'POST', '/v1/orgs', { name: 'evil' }), 201, 'org evil').json.id;
    bankSpace = ok(await api(platform, 'POST', '/v1/spaces', { name: 'prod', org_id: bankOrg }), 201, 'space prod').json.id;
    evilSpace = ok(await api(platform, 'POST', '/v1/spaces', { name: 'dev', org_id: evilOrg }), 201, 'space dev').json.id;
    const attacker = ok(await api(platform, 'POST', '/v1/users', { name: 'mallory' }), 201, 'user').json;
    attackerToken = ok(await api(platform, 'POST', `/v1/users/${attacker.id}/tokens`, { name: 'cli' }), 201, 'token').json.token;
    ok(await api(platform, 'PUT', `/v1/spaces/${evilSpace}/roles`, { user_id: attacker.id, role: 'developer' }), 200, 'role');
    domainId = (ok(await api(platform, 'GET', '/v1/domains'), 200, 'domains').json.resources as Array<{ id: string; default: boolean }>).find((d) => d.default)!.id;
    bankHost = `bank.${platform.appsDomain}`;
  });

  after(async () => {
    const leftovers = platform ? await stopIsolatedPlatform(platform) : [];
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
  });

  test('the bank runs / and /api on its host as two real apps', async () => {
    await pushHello('bank', bankSpace);
    const bankApi = await pushHello('bank-api', bankSpace, true);
    const route = ok(await api(platform, 'POST', '/v1/routes', { host: 'bank', path: '/api', domain_id: domainId, space_id: bankSpace }), 201, 'the /api route').json;
    ok(await api(platform, 'POST', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: bankApi } }] }), 200, 'bind bank-api');
    await pollUntil('/api to reach bank-api', async () => /^Hello from bank-api /.test((await viaRouter(platform, bankHost, '/api')).text), { timeoutMs: 60_000 });
    assert.match((await viaRouter(platform, bankHost, '/')).text, /^Hello from bank /);
  });

  test('the attacker cannot take /api of the bank\'s host: not through the API, not through the CLI', async () => {
    const victimApp = ok(await api(platform, 'POST', '/v1/apps', { name: 'evil-api', space_id: evilSpace, no_route: true }, attackerToken), 201, 'evil app').json;
    for (const path of ['/api', '/api/v2', '', '/login']) {
      const res = await api(platform, 'POST', '/v1/routes', { host: 'bank', path, domain_id: domainId, space_id: evilSpace }, attackerToken);
      assert.equal(res.status, 409, `${path}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.code, 'host-taken');
      assert.match(res.json.error.message, /belongs to another space: a host belongs to one space: every route on it, whatever its path, is in the space of the host's first route/);
      assert.doesNotMatch(res.json.error.message, /prod|bank org|org bank/, 'the owner is not named to the attacker');
    }
    const taken = await api(platform, 'POST', '/v1/apps', { name: 'bank-admin', space_id: evilSpace }, attackerToken);
    assert.equal(taken.status, 201, 'an unrelated host is fine');

    const config = join(work, 'cli-config.json');
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env, PAAS_CONFIG: config, NO_COLOR: '1', HOME: work };
        delete env.PAAS_API;
        delete env.PAAS_TOKEN;
        execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
      });
    const login = await cli(['login', '--api', platform.apiUrl, '--token', attackerToken]);
    assert.equal(login.code, 0, login.stderr);
    const mapped = await cli(['map-route', 'evil-api', platform.appsDomain, '--hostname', 'bank', '--path', '/api']);
    assert.equal(mapped.code, 1, `map-route exits 1\n${mapped.stdout}\n${mapped.stderr}`);
    assert.match(mapped.stderr, /host-taken|belongs to another space: a host belongs to one space/);
    const encoded = await cli(['map-route', 'evil-api', platform.appsDomain, '--hostname', 'bank-admin', '--path', '/%61pi']);
    assert.equal(encoded.code, 1);
    assert.match(encoded.stderr, /not in normal form: write it as "\/api"/);

    const routes = ok(await api(platform, 'GET', '/v1/routes?hosts=bank'), 200, 'routes').json.resources as Array<{ path: string; space_id: string }>;
    assert.deepEqual(routes.map((r) => [r.path, r.space_id]).sort(), [['', bankSpace], ['/api', bankSpace]], 'the bank\'s host has the bank\'s routes only');
    const bound = ok(await api(platform, 'GET', `/v1/routes?app_ids=${victimApp.id}`), 200, 'evil routes').json.resources;
    assert.deepEqual(bound, [], 'the attacker\'s app is bound to nothing');
    assert.match((await viaRouter(platform, bankHost, '/api')).text, /^Hello from bank-api /, '/api still reaches the bank');
  });

  test('path spellings reach the app the normal path belongs to; ambiguous ones get the router\'s 400', async () => {
    for (const target of ['/x/../api', '//api', '/./api', '/%61pi', '/%2e%2e/api', '/api/../api/x']) {
      const reply = await rawGet(platform.routerPort, bankHost, target);
      assert.equal(reply.status, 200, target);
      assert.match(reply.body, /^Hello from bank-api /, `${target} reaches the /api app`);
    }
    for (const target of ['/apix', '/api/..', '/%61pix']) {
      assert.match((await rawGet(platform.routerPort, bankHost, target)).body, /^Hello from bank /, `${target} is not /api`);
    }
    for (const target of ['/api%2F..%2Fx', '/%2e%2e%2fapi', '/api%5C', '/..\\api', '/api%00', '/api%zz', '/api%']) {
      const reply = await rawGet(platform.routerPort, bankHost, target);
      assert.equal(reply.status, 400, target);
      assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'bad-path', target);
      assert.match(reply.body, /is ambiguous/);
    }
  });
});
