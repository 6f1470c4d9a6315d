import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { NpmRegistryFixture } from '@paas/testing';
import { commitDir, git, ROOT, writeExpressApp, writeFiles, type TestPlatform } from '@paas/test-platform';

export async function api(
  platform: TestPlatform,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = platform.adminToken,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: bodies are checked field by field
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${platform.apiUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** A request through the router with a Host header, as a browser on NAME.apps.localhost would send. */
export async function viaRouter(platform: TestPlatform, host: string, path = '/'): Promise<{ status: number; text: string; headers: Headers }> {
  const { request } = await import('node:http');
  return new Promise((resolveRes, reject) => {
    const req = request({ host: '127.0.0.1', port: platform.routerPort, path, headers: { host, accept: 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolveRes({ status: res.statusCode ?? 0, text, headers: new Headers(res.headers as Record<string, string>) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request through the router timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Requests through the router in a loop until `end()` (bounded: at most `maxRequests` and
 * `maxMs`), counting answers that are not 200. For "no request fails while ..." checks.
 * `pauseMs` between requests (default none: back to back); `failedAt` has when each failure came.
 */
export function trafficLoop(platform: TestPlatform, host: string, options: { maxRequests?: number; maxMs?: number; pauseMs?: number } = {}) {
  const maxRequests = options.maxRequests ?? 5_000;
  const deadline = Date.now() + (options.maxMs ?? 120_000);
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const failedAt: number[] = [];
  const bodies = new Map<string, number>();
  const done = (async () => {
    for (let sent = 0; !stop && sent < maxRequests && Date.now() < deadline; sent++) {
      const r = await viaRouter(platform, host).catch((e: Error) => ({ status: 0, text: e.message }));
      if (r.status === 200) {
        ok++;
        bodies.set(r.text, (bodies.get(r.text) ?? 0) + 1);
      } else {
        failures.push(`${r.status} ${r.text.slice(0, 120)}`);
        failedAt.push(Date.now());
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  })();
  return {
    /** The answers so far, while the loop goes on. */
    bodies,
    /** 200s so far. */
    get ok() {
      return ok;
    },
    async end() {
      stop = true;
      await done;
      return { ok, failures, failedAt, bodies };
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The real `paas` binary as the platform admin (PAAS_API/PAAS_TOKEN; or as the user of `token`),
 * with its own config file and home in `work` and no colours. `paas` never throws (the exit code
 * is checked by the caller); `ok` expects exit code 0 and returns stdout.
 */
export function adminCli(platform: TestPlatform, work: string, token = platform.adminToken) {
  const paas = (args: string[], input = '') =>
    new Promise<CliResult>((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, PAAS_CONFIG: join(work, 'paas.json'), NO_COLOR: '1', HOME: work, PAAS_API: platform.apiUrl, PAAS_TOKEN: token };
      delete env.FORCE_COLOR;
      delete env.COLUMNS;
      const child = execFile(process.execPath, [join(ROOT, 'apps', 'cli', 'dist', 'main.js'), ...args], { cwd: work, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(input);
    });
  const ok = async (args: string[]) => {
    const r = await paas(args);
    if (r.code !== 0) throw new Error(`paas ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  return { paas, ok };
}

/**
 * Creates app `name` in the space and pushes it with git: a `server.js` and, with `dependencies`,
 * a package.json installed from the platform's npm registry (else a Procfile alone). Asserts both.
 */
export async function pushServerApp(
  platform: TestPlatform,
  setup: { work: string; registries: NpmRegistryFixture[] },
  name: string,
  spaceId: string,
  files: { server: string; dependencies?: Record<string, string> },
): Promise<void> {
  const created = await api(platform, 'POST', '/v1/apps', { name, space_id: spaceId });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const dir = join(setup.work, name);
  if (files.dependencies) {
    const pkg = { name, version: '1.0.0', engines: { node: '24.x' }, scripts: { start: 'node server.js' }, dependencies: files.dependencies };
    await writeExpressApp(dir, pkg, { registry: setup.registries[0]!.url, npmCache: join(setup.work, 'npm-cache'), server: files.server });
  } else {
    await writeFiles(dir, { Procfile: 'web: node server.js\n', 'server.js': files.server });
  }
  await commitDir(dir);
  const pushed = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`, 'main'], dir);
  assert.equal(pushed.code, 0, pushed.output);
}

/**
 * An org with one space `web`, and a new user who is admin of that space: the org's manager
 * (who may add the org's own domains and certificates). Returns the space and the user's token.
 */
export async function createOrgManager(platform: TestPlatform, org: string, user: string): Promise<{ orgId: string; spaceId: string; token: string }> {
  const ok = <T extends { status: number; json: unknown }>(res: T, status: number, what: string): T => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.json)}`);
    return res;
  };
  const orgId = ok(await api(platform, 'POST', '/v1/orgs', { name: org }), 201, `org ${org}`).json.id as string;
  const spaceId = ok(await api(platform, 'POST', '/v1/spaces', { name: 'web', org_id: orgId }), 201, 'space').json.id as string;
  const made = ok(await api(platform, 'POST', '/v1/users', { name: user }), 201, `user ${user}`).json;
  const token = ok(await api(platform, 'POST', `/v1/users/${made.id}/tokens`, { name: 'cli' }), 201, 'token').json.token as string;
  ok(await api(platform, 'PUT', `/v1/spaces/${spaceId}/roles`, { user_id: made.id, role: 'admin' }), 200, 'role');
  return { orgId, spaceId, token };
}

