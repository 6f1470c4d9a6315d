/**
 * A cell for service instances in controller specs: it announces a presence as a cell does, takes
 * start-service and delete-service jobs from its own queue, and runs each instance's server for
 * real on this host (/usr/lib/postgresql/N/bin/postgres as the postgres user, /usr/bin/redis-server),
 * initialised with the job's admin login as the cell's runtime would, on a free port of 127.0.0.1,
 * reporting its ServiceState (reportServiceState) while it runs. The cell agent on the fake
 * runtime runs no real server; this does, so that binding specs can log in with what the
 * controller made. `failStarts` makes the next start report `failed` with that error instead;
 * `forgetReport(id)` stops reporting one instance until its start-service job comes again;
 * `lose()` makes it a lost cell. A restore-service job of a Redis instance restores its RDB
 * snapshot (restoreServer), as the real cell does, so that restore specs see real data come back.
 * Apps never fit on it (it announces less memory than they ask: see the spec). `stop` ends every
 * server (by pid), withdraws the cell and removes its directories.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'bullmq';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import {
  CellJobName,
  deleteServiceJobSchema,
  redisKeys,
  restoreServiceJobSchema,
  type RestoreServiceJob,
  startServiceJobSchema,
  type RedisKeys,
  type ServiceState,
  type StartServiceJob,
} from '@paas/contracts';
import { announceCell, createRedisConnection, expireCellPresence, forgetServiceState, reportServiceState, withdrawCell } from '@paas/redis';
import { asPostgres, freePort, PG_HBA, pollUntil, postgresBin, writeRedisAcl } from '@paas/local-services';

const run = promisify(execFile);

interface RunningServer {
  job: StartServiceJob;
  dir: string;
  child: ChildProcess;
  state: ServiceState;
}

export class ServiceCell {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private worker?: Worker;
  private workerConnection?: Redis;
  private heartbeat?: NodeJS.Timeout;
  readonly servers = new Map<string, RunningServer>();
  /** Every start-service job it took. */
  readonly startJobs: StartServiceJob[] = [];
  /** The error the next start reports (`failed`) instead of running a server. */
  failStarts?: string;
  /** Instances whose server runs but whose report this cell no longer refreshes (as if its Redis lost them). */
  private readonly unreported = new Set<string>();

  constructor(
    readonly id: string,
    private readonly h: { redisUrl: string; redisPrefix: string; internalToken?: string },
    private readonly memoryMb: number,
  ) {
    this.redis = createRedisConnection(h.redisUrl, `service-cell-${id}`);
    this.keys = redisKeys(h.redisPrefix);
  }

  async start(): Promise<void> {
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), 1_000);
    this.workerConnection = createRedisConnection(this.h.redisUrl, `service-cell-${this.id}-worker`);
    this.worker = new Worker(this.keys.cellQueue(this.id), async (job) => {
      if (job.name === CellJobName.StartService) return this.startServer(startServiceJobSchema.parse(job.data));
      if (job.name === CellJobName.DeleteService) return this.deleteServer(deleteServiceJobSchema.parse(job.data).serviceInstanceId);
      if (job.name === CellJobName.RestoreService) return this.restoreServer(restoreServiceJobSchema.parse(job.data));
      return { ok: true };
    }, { connection: this.workerConnection, concurrency: 4 });
  }

  /** Presence, and the report of every server it runs (as a cell refreshes both). */
  private async beat(): Promise<void> {
    let used = 0;
    for (const s of this.servers.values()) used += s.job.memoryMb;
    await announceCell(this.redis, this.keys, {
      id: this.id,
      address: '127.0.0.1',
      zone: 'z1',
      capacity: { memoryMb: this.memoryMb, maxContainers: 20 },
      instances: this.servers.size,
      usedMemoryMb: used,
      state: 'live',
      startedAt: new Date(0).toISOString(),
    });
    for (const s of this.servers.values()) {
      if (!this.unreported.has(s.job.serviceInstanceId)) await reportServiceState(this.redis, this.keys, { ...s.state, at: new Date().toISOString() });
    }
  }

  private async startServer(job: StartServiceJob): Promise<{ ok: boolean }> {
    this.startJobs.push(job);
    // The same job again (a controller that saw no report) changes nothing but the reporting.
    if (this.servers.has(job.serviceInstanceId)) {
      this.unreported.delete(job.serviceInstanceId);
      return { ok: true };
    }
    const base = { serviceInstanceId: job.serviceInstanceId, cellId: this.id, host: '127.0.0.1', at: new Date().toISOString() };
    if (this.failStarts) {
      const error = this.failStarts;
      this.failStarts = undefined;
      await reportServiceState(this.redis, this.keys, { ...base, port: 1, state: 'failed', error });
      return { ok: false };
    }
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), `paas-svc-${job.kind}-`));
    const child = job.kind === 'postgresql' ? await startPostgres(job, dir, port) : await startRedis(job, dir, port);
    const server: RunningServer = { job, dir, child, state: { ...base, port, state: 'starting' } };
    this.servers.set(job.serviceInstanceId, server);
    await reportServiceState(this.redis, this.keys, server.state);
    await waitAccepting(job, port);
    server.state = { ...server.state, state: 'running', at: new Date().toISOString() };
    await reportServiceState(this.redis, this.keys, server.state);
    return { ok: true };
  }

  private async deleteServer(instanceId: string): Promise<{ ok: boolean }> {
    const server = this.servers.get(instanceId);
    this.servers.delete(instanceId);
    if (server) await stopServer(server);
    await forgetServiceState(this.redis, this.keys, instanceId);
    return { ok: true };
  }

  /**
   * A Redis restore as a cell makes it: the backup fetched from the controller's blobstore with
   * the internal token and checked against the job's size and sha256 (the job fails otherwise,
   * the server untouched), then the server stopped, the snapshot put in its dir as dump.rdb (this
   * cell's servers run without AOF, so they load it) and started again on its port.
   */
  private async restoreServer(job: RestoreServiceJob): Promise<{ ok: boolean }> {
    const server = this.servers.get(job.serviceInstanceId);
    if (!server || server.job.kind !== 'redis') throw new Error(`no redis server ${job.serviceInstanceId} on this cell`);
    const res = await fetch(job.backupUrl, { headers: { 'x-paas-internal-token': this.h.internalToken ?? '' } });
    if (!res.ok) throw new Error(`fetching the backup answered ${res.status}`);
    const snapshot = Buffer.from(await res.arrayBuffer());
    if (snapshot.length !== job.sizeBytes || createHash('sha256').update(snapshot).digest('hex') !== job.sha256) {
      throw new Error(`the backup ${job.backupId} does not match its size and sha256: the server keeps its data`);
    }
    await stopChild(server.child);
    await writeFile(join(server.dir, 'dump.rdb'), snapshot);
    server.child = await startRedis(server.job, server.dir, server.state.port);
    await waitAccepting(server.job, server.state.port);
    return { ok: true };
  }

  /** Its report of the instance goes and is not refreshed, the server still running: what a Redis that lost the job leaves. */
  async forgetReport(instanceId: string): Promise<void> {
    this.unreported.add(instanceId);
    await forgetServiceState(this.redis, this.keys, instanceId);
  }

  /** As a host that died: no more heartbeat or reports, its presence expires now (its servers keep running until `stop`). */
  async lose(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.worker?.close().catch(() => undefined);
    await expireCellPresence(this.redis, this.keys, this.id, 1);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.worker?.close().catch(() => undefined);
    this.workerConnection?.disconnect();
    for (const server of this.servers.values()) await stopServer(server);
    this.servers.clear();
    await withdrawCell(this.redis, this.keys, this.id).catch(() => undefined);
    this.redis.disconnect();
  }
}

async function postgresIds(): Promise<[number, number]> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install the postgresql package');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

/** initdb with the job's admin as superuser (SCRAM only), then the server on `port` of 127.0.0.1. */
async function startPostgres(job: StartServiceJob, dir: string, port: number): Promise<ChildProcess> {
  const ids = await postgresIds();
  await chown(dir, ...ids);
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, job.adminPassword, { mode: 0o600 });
  await chown(pwfile, ...ids);
  const data = join(dir, 'data');
  const [initdb, initArgs] = asPostgres(postgresBin('initdb'), ['-D', data, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-U', job.adminUser, '-E', 'UTF8', '--no-sync']);
  await run(initdb, initArgs);
  await rm(pwfile, { force: true });
  const hba = join(data, 'pg_hba.conf');
  await writeFile(hba, PG_HBA, { mode: 0o600 });
  await chown(hba, ...ids);
  const [cmd, args] = asPostgres(postgresBin('postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  return spawn(cmd, args, { stdio: 'ignore' });
}

/** redis-server with the job's admin as the only ACL user (default off), its ACL file writable for ACL SAVE. */
async function startRedis(job: StartServiceJob, dir: string, port: number): Promise<ChildProcess> {
  const acl = await writeRedisAcl(dir, { user: job.adminUser, password: job.adminPassword });
  return spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--aclfile', acl], { stdio: 'ignore' });
}

async function waitAccepting(job: StartServiceJob, port: number): Promise<void> {
  await pollUntil(`the ${job.kind} server of ${job.serviceInstanceId} to accept its admin`, async () => {
    if (job.kind === 'postgresql') {
      const client = new Client({ host: '127.0.0.1', port, user: job.adminUser, password: job.adminPassword, database: 'postgres' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    const redis = new Redis({ host: '127.0.0.1', port, username: job.adminUser, password: job.adminPassword, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return (await redis.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      redis.disconnect();
    }
  }, { timeoutMs: 30_000 });
}

async function stopServer(server: RunningServer): Promise<void> {
  await stopChild(server.child);
  await rm(server.dir, { recursive: true, force: true });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // setpriv execs postgres itself: the pid is the server's. SIGINT: postgres's fast shutdown.
    process.kill(child.pid, 'SIGINT');
    const killer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}
