/**
 * Integration-test harness: a private Redis and Postgres (real servers, own ports and directory),
 * the real migrations, and the controller's Nest application in this process on a free port.
 * The real cell agent on the fake runtime (cell-agent.ts) takes the place of cells on runc for
 * tests of the API that need instances.
 */
import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { freePort, pollUntil, postgresUrlOf, redisUrlOf, startDataServices, StopPolling, type DataServices } from '@paas/local-services';
import { applyMigrations } from '../platform/database/migrator';
import { PrismaService } from '../platform/database/prisma.service';

const ROOT = resolve(__dirname, '..', '..', '..', '..');


export interface ApiResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read bodies field by field
  body: any;
  headers: Headers;
}

/** The platform admin the harness seeds, as a git push's actor. */
export async function adminActor(h: ControllerHarness): Promise<{ userId: string; name: string; isAdmin: boolean }> {
  const user = await h.app.get(PrismaService).user.findUniqueOrThrow({ where: { name: 'admin' } });
  return { userId: user.id, name: user.name, isAdmin: true };
}

export interface ControllerHarness {
  url: string;
  adminToken: string;
  redisUrl: string;
  databaseUrl: string;
  redisPrefix: string;
  internalToken: string;
  app: INestApplication;
  /** The private Redis and Postgres, for tests that stop and start one (`postgres.stop()`, `postgres.start()`). */
  dataServices: DataServices;
  /** Calls the API; token defaults to the admin token, null sends none. */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse>;
  /** Starts another controller replica on the same Postgres and Redis; its `call` talks to it. */
  replica(): Promise<{ url: string; call: ControllerHarness['call']; close(): Promise<void> }>;
  /**
   * Starts another replica in a process of its own (apps/controller/dist/main.js, the harness's
   * environment plus `env`), so that a test can kill it as a crash would: `kill()` is SIGKILL
   * (no shutdown hook runs) and resolves once it is gone. `stop()` kills it too.
   */
  processReplica(env?: Record<string, string>): Promise<{ url: string; call: ControllerHarness['call']; kill(): Promise<void> }>;
  stop(): Promise<void>;
}

function caller(url: string, adminToken: string): ControllerHarness['call'] {
  return async (method, path, body, token = adminToken) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export async function startControllerHarness(env: Record<string, string> = {}): Promise<ControllerHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'paas-ctl-test-'));
  const redisPort = await freePort();
  const postgresPort = await freePort();
  let services: DataServices | undefined;
  let app: INestApplication | undefined;
  const replicas: INestApplication[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const replica of replicas) await replica.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await services?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // As npm start runs them: Redis behind its ACL, Postgres behind SCRAM, passwords in dataDir.
    services = await startDataServices({ rootDir: ROOT, dataDir, redisPort, postgresPort });
    const databaseUrl = postgresUrlOf('127.0.0.1', postgresPort, services.postgresLogin);
    const redisUrl = redisUrlOf('127.0.0.1', redisPort, services.redisLogin);
    await applyMigrations(databaseUrl);
    const port = await freePort();
    const redisPrefix = `t${randomBytes(3).toString('hex')}`;
    const internalToken = randomBytes(32).toString('hex');
    Object.assign(process.env, {
      CONTROLLER_PORT: String(port),
      CONTROLLER_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      PAAS_REDIS_PREFIX: redisPrefix,
      PAAS_BLOBSTORE_DIR: join(dataDir, 'blobstore'),
      PAAS_INTERNAL_TOKEN: internalToken,
      PAAS_ADMIN_TOKEN_FILE: join(dataDir, 'admin-token'),
      PAAS_START_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'warn',
      ...env,
    });
    // Imported late: the config module reads the environment set above.
    const { AppModule } = await import('../app.module.js');
    app = await NestFactory.create(AppModule, { logger: ['error'] });
    await app.listen(port, '127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    const adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const call = caller(url, adminToken);
    const replica = async () => {
      const replicaPort = await freePort();
      process.env.CONTROLLER_PORT = String(replicaPort);
      process.env.CONTROLLER_URL = `http://127.0.0.1:${replicaPort}`;
      const other = await NestFactory.create(AppModule, { logger: ['error'] });
      await other.listen(replicaPort, '127.0.0.1');
      replicas.push(other);
      const replicaUrl = `http://127.0.0.1:${replicaPort}`;
      return { url: replicaUrl, call: caller(replicaUrl, adminToken), close: () => other.close() };
    };
    const processReplica = async (extra: Record<string, string> = {}) => {
      const replicaPort = await freePort();
      const replicaUrl = `http://127.0.0.1:${replicaPort}`;
      const child = spawn(process.execPath, [join(ROOT, 'apps', 'controller', 'dist', 'main.js')], {
        env: { ...process.env, CONTROLLER_PORT: String(replicaPort), CONTROLLER_URL: replicaUrl, ...extra },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await pollUntil(`the replica process to answer on ${replicaUrl}`, async () => {
        if (child.exitCode !== null) throw new StopPolling(new Error(`the replica process exited (${child.exitCode}): ${stderr}`));
        return fetch(`${replicaUrl}/health`).then((r) => r.ok, () => false);
      }, { timeoutMs: 30_000 }).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw new Error(`${(error as Error).message}: ${stderr}`);
      });
      return {
        url: replicaUrl,
        call: caller(replicaUrl, adminToken),
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      };
    };
    return {
      url,
      adminToken,
      redisUrl,
      databaseUrl,
      redisPrefix,
      internalToken,
      app,
      dataServices: services,
      call,
      replica,
      processReplica,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
