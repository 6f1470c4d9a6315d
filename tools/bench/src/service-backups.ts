/**
 * tools/bench/service-backups: how long a managed instance's backup, restore and resize take,
 * side by side in one run on one platform: a Postgres holding 100,000 rows (about 10 MB) against
 * a Redis holding 100,000 keys, each filled through a service key from this host (where keys
 * work). Backup: POST of the backup to `succeeded` (pg_dump -Fc / an RDB snapshot into the
 * blobstore); restore: POST of the restore to `succeeded` (pg_restore in one transaction / the
 * cell's restore-service); resize: small → medium (the cell grows the volume and restarts the
 * server). BENCH_RUNS (default 3) backups and restores of each; prints medians and ratios.
 */
import { spawn } from 'node:child_process';
import type { ServiceBackupView, ServiceInstanceView, ServiceKeyView } from '@paas/contracts';
import { startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { pollUntil, StopPolling } from '@paas/local-services';
import { benchApi } from './bench-kit';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = 100_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs a client binary with the password in its env (never argv), `input` on its stdin; throws with its output unless it exits 0. */
function client(binary: string, args: string[], env: Record<string, string>, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} exited with ${code}: ${err.slice(-500)}`))));
    child.stdin.end(input);
  });
}

async function instanceSettled(platform: TestPlatform, name: string, type: ServiceInstanceView['last_operation']['type']): Promise<void> {
  await pollUntil(`${name}'s ${type} to end`, async () => {
    const view = await benchApi<ServiceInstanceView>(platform, 'GET', `/v1/service_instances/${name}`);
    if (view.last_operation.type !== type) return false;
    if (view.last_operation.state === 'failed') throw new StopPolling(new Error(`${name}: ${type} failed: ${view.last_operation.description}`));
    return view.last_operation.state === 'succeeded';
  }, { timeoutMs: 600_000, intervalMs: 100 });
}

/** Creates the instance, fills it through a service key of its own, and drops the key again. */
async function filled(platform: TestPlatform, offering: 'postgresql' | 'redis', name: string): Promise<void> {
  await benchApi(platform, 'POST', '/v1/service_instances', { name, offering, plan: 'small' });
  await instanceSettled(platform, name, 'create');
  const key = await benchApi<ServiceKeyView>(platform, 'POST', `/v1/service_instances/${name}/keys`, { name: 'bench' });
  const c = key.credentials!;
  if (offering === 'postgresql') {
    const sql = `CREATE TABLE rows AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS body FROM generate_series(1, ${ROWS}) g;`;
    await client('/usr/lib/postgresql/15/bin/psql', ['-h', String(c.host), '-p', String(c.port), '-U', String(c.username), '-d', String(c.database), '-v', 'ON_ERROR_STOP=1', '-q'], { PGPASSWORD: String(c.password) }, sql);
  } else {
    const lines: string[] = [];
    for (let i = 0; i < ROWS; i++) lines.push(`SET key:${i} ${'v'.repeat(64)}${i}\r\n`);
    await client('/usr/bin/redis-cli', ['-h', String(c.host), '-p', String(c.port), '--user', String(c.username), '--pipe'], { REDISCLI_AUTH: String(c.password) }, lines.join(''));
  }
  await benchApi(platform, 'DELETE', `/v1/service_instances/${name}/keys/bench`);
}

async function backup(platform: TestPlatform, name: string): Promise<{ ms: number; backup: ServiceBackupView }> {
  const t0 = Date.now();
  const started = await benchApi<ServiceBackupView>(platform, 'POST', `/v1/service_instances/${name}/backups`);
  const done = await pollUntil(`backup ${started.id} to end`, async () => {
    const view = await benchApi<ServiceBackupView>(platform, 'GET', `/v1/service_instances/${name}/backups/${started.id}`);
    if (view.state === 'failed') throw new StopPolling(new Error(`backup of ${name} failed: ${view.error}`));
    return view.state === 'succeeded' ? view : undefined;
  }, { timeoutMs: 600_000, intervalMs: 100 });
  return { ms: Date.now() - t0, backup: done };
}

async function restore(platform: TestPlatform, name: string, backupId: string): Promise<number> {
  const t0 = Date.now();
  await benchApi(platform, 'POST', `/v1/service_instances/${name}/restores`, { backup_id: backupId });
  await instanceSettled(platform, name, 'restore');
  return Date.now() - t0;
}

async function main(): Promise<void> {
  let platform: TestPlatform | undefined;
  try {
    platform = await startIsolatedPlatform(1);
    const kinds = [['postgresql', 'pg-bench'], ['redis', 'redis-bench']] as const;
    for (const [offering, name] of kinds) await filled(platform, offering, name);
    const figures: Record<string, { backup: number[]; restore: number[]; size: number }> = {};
    for (const [, name] of kinds) {
      const f: { backup: number[]; restore: number[]; size: number } = { backup: [], restore: [], size: 0 };
      figures[name] = f;
      for (let i = 0; i < runs; i++) {
        const b = await backup(platform, name);
        f.backup.push(b.ms);
        f.size = b.backup.size_bytes ?? 0;
        f.restore.push(await restore(platform, name, b.backup.id));
      }
    }
    let t0 = Date.now();
    await benchApi(platform, 'PATCH', '/v1/service_instances/pg-bench', { plan: 'medium' });
    await instanceSettled(platform, 'pg-bench', 'update');
    const resizePg = Date.now() - t0;
    t0 = Date.now();
    await benchApi(platform, 'PATCH', '/v1/service_instances/redis-bench', { plan: 'medium' });
    await instanceSettled(platform, 'redis-bench', 'update');
    const resizeRedis = Date.now() - t0;
    const pg = figures['pg-bench']!;
    const redis = figures['redis-bench']!;
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(`postgresql ${ROWS} rows: backup median ${median(pg.backup)} ms (${mb(pg.size)} MB; runs ${pg.backup.join(', ')}), restore median ${median(pg.restore)} ms (runs ${pg.restore.join(', ')}); restore/backup ${(median(pg.restore) / median(pg.backup)).toFixed(2)}x`);
    console.log(`redis ${ROWS} keys:       backup median ${median(redis.backup)} ms (${mb(redis.size)} MB; runs ${redis.backup.join(', ')}), restore median ${median(redis.restore)} ms (runs ${redis.restore.join(', ')}); restore/backup ${(median(redis.restore) / median(redis.backup)).toFixed(2)}x`);
    console.log(`resize small → medium:     postgresql ${resizePg} ms, redis ${resizeRedis} ms; postgresql/redis ${(resizePg / resizeRedis).toFixed(2)}x`);
  } finally {
    await stopIsolatedPlatform(platform);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
