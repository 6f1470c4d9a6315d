import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { databaseName, ownerRole } from './credentials';
import type { ServerLogin } from './postgres-admin';

/**
 * The host's client programs that make and restore backups of service instances' servers
 * (pg_dump and pg_restore of the cells' PostgreSQL 15, redis-cli), run as children with an args
 * array of their own (no shell), the admin's password in their env only (PGPASSWORD,
 * REDISCLI_AUTH: never in argv), a timeout that kills them, and output bounded in size.
 */

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
export const REDIS_CLI = '/usr/bin/redis-cli';

/** A child to run: what it is called in errors, and how long it may take. */
export interface ChildRun {
  what: string;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

/** Counts and hashes (sha256) the bytes that pass through; fails once more than maxBytes came. */
export class MeterStream extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new Error(`${this.what} is larger than ${Math.round(this.maxBytes / 1048576)} MB (the plan's disk): stopped`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

/** The environment of a child: PATH and what it is given, nothing of the controller's own (its DATABASE_URL, tokens). */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...extra };
}

/**
 * Runs the child to its end; its stdout goes to `consume` when given (ignored otherwise). Rejects
 * naming the child with the last lines of its stderr when it exits non-zero, when it runs past
 * its timeout (it is killed), or when `consume` fails (it is killed, and that error is the one).
 */
export async function runChild(run: ChildRun, consume?: (stdout: Readable) => Promise<unknown>): Promise<void> {
  const child = spawn(run.cmd, run.args, { env: run.env, stdio: ['ignore', consume ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, run.timeoutMs);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, spawnError: error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let consumeError: Error | undefined;
  const consumed = consume
    ? consume(child.stdout!).catch((error: Error) => {
        consumeError = error;
        child.kill('SIGKILL');
      })
    : Promise.resolve();
  const [outcome] = await Promise.all([ended, consumed]);
  clearTimeout(timer);
  if (outcome.spawnError) throw new Error(`${run.what} could not be started (${run.cmd}): ${outcome.spawnError.message}`);
  if (timedOut) throw new Error(`${run.what} did not finish within ${Math.round(run.timeoutMs / 1000)} s: stopped`);
  if (consumeError) throw consumeError;
  if (outcome.code !== 0) {
    const lines = stderr.trim().split('\n').slice(-3).join(' | ');
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
    throw new Error(`${run.what} ${how}${lines ? `: ${lines}` : ''}`);
  }
}

/** `pg_dump -Fc` of the instance's database as its admin over TCP, owners and grants left out (a restore gives everything to the target's owner role). */
export function pgDumpRun(login: ServerLogin, instanceId: string, timeoutMs: number): ChildRun {
  return {
    what: 'pg_dump',
    cmd: `${PG_BIN_DIR}/pg_dump`,
    args: ['-h', login.host, '-p', String(login.port), '-U', login.user, '-w', '-d', databaseName(instanceId), '-Fc', '--no-owner', '--no-privileges'],
    env: childEnv({ PGPASSWORD: login.password, PGCONNECT_TIMEOUT: '10' }),
    timeoutMs,
  };
}

/**
 * `pg_restore` of a custom-format dump into the instance's database, in one transaction (an error
 * anywhere leaves the database as it was), dropping what the dump holds first, every object made
 * as the instance's owner role.
 */
export function pgRestoreRun(login: ServerLogin, instanceId: string, file: string, timeoutMs: number): ChildRun {
  return {
    what: 'pg_restore',
    cmd: `${PG_BIN_DIR}/pg_restore`,
    args: [
      '-h', login.host, '-p', String(login.port), '-U', login.user, '-w', '-d', databaseName(instanceId),
      '--clean', '--if-exists', '--no-owner', '--no-privileges', `--role=${ownerRole(instanceId)}`, '--single-transaction', '--exit-on-error',
      file,
    ],
    env: childEnv({ PGPASSWORD: login.password, PGCONNECT_TIMEOUT: '10' }),
    timeoutMs,
  };
}

/**
 * `redis-cli --rdb FILE`: a real RDB snapshot over SYNC, as the instance's admin. To a file, not
 * stdout: a diskless master ends the transfer with a 40-byte EOF mark that redis-cli cuts off the
 * file (ftruncate) but would leave in a pipe, where it reads as a damaged AOF tail on restore.
 */
export function redisRdbRun(login: ServerLogin, file: string, timeoutMs: number): ChildRun {
  return {
    what: 'redis-cli --rdb',
    cmd: REDIS_CLI,
    args: ['-h', login.host, '-p', String(login.port), '--user', login.user, '--no-auth-warning', '--rdb', file],
    env: childEnv({ REDISCLI_AUTH: login.password }),
    timeoutMs,
  };
}
