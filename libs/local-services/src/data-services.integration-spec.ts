/**
 * The private Redis and Postgres as `npm start` runs them (startDataServices, the same function
 * the platform runner and the controller harness call), tried the way someone on the host without
 * the passwords would: redis-cli and psql, with no password and with a wrong one, over TCP and over
 * Postgres's unix socket. Also: the secret files are 0600 in a 0711 directory (not listable), a second start keeps
 * the passwords, a new password in the file takes over at the next start (rotation), and a data
 * directory from before (trust authentication, no ACL, loose modes) is upgraded without losing data.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { dataDirSecret, InvalidSecretFile } from './data-dir-secrets';
import { asPostgres, postgresBin, postgresProcess, startDataServices, type DataServices } from './services';
import { freePort } from './wait';
import { pollUntil } from './poll-until';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..');

interface Outcome {
  code: number;
  out: string;
}

/** Runs a client tool with only the environment given (no PGPASSWORD or REDISCLI_AUTH of ours leaks in). */
async function tool(command: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** redis-cli PING on 127.0.0.1; `auth` is [user, password] or nothing. */
function redisPing(port: number, auth?: [string, string]): Promise<Outcome> {
  return tool('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', ...(auth ? ['--user', auth[0], '--pass', auth[1]] : []), 'PING']);
}

/** psql `SELECT current_user` as `user` over TCP (host 127.0.0.1) or the unix socket (host = socket directory); never prompts. */
function psql(host: string, port: number, user: string, password?: string): Promise<Outcome> {
  return tool('psql', ['-w', '-h', host, '-p', String(port), '-U', user, '-d', 'postgres', '-At', '-c', 'SELECT current_user'], password === undefined ? {} : { PGPASSWORD: password });
}

async function mode(path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8);
}

async function startIn(dataDir: string): Promise<{ services: DataServices; redisPort: number; postgresPort: number }> {
  const redisPort = await freePort();
  const postgresPort = await freePort();
  const services = await startDataServices({ rootDir: ROOT, dataDir, redisPort, postgresPort });
  return { services, redisPort, postgresPort };
}

describe('the private Redis and Postgres require their passwords', () => {
  const dirs: string[] = [];
  const running: DataServices[] = [];
  let dataDir: string;
  let redisPort: number;
  let postgresPort: number;
  let services: DataServices;
  const socketDir = () => join(dataDir, 'postgres');

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'paas-data-services-'));
    dirs.push(dataDir);
    ({ services, redisPort, postgresPort } = await startIn(dataDir));
    running.push(services);
  });

  after(async () => {
    for (const s of running) await s.stop().catch(() => undefined);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('generates strong passwords into the data directory, 0600 files in a 0711 directory', async () => {
    assert.equal(await mode(dataDir), '711', 'traversable by the cells\' mapped users, listable by root alone');
    for (const name of ['redis-password', 'postgres-password']) {
      assert.equal(await mode(join(dataDir, name)), '600', name);
      assert.match((await readFile(join(dataDir, name), 'utf8')).trim(), /^[0-9a-f]{64}$/, `${name} holds 32 random bytes`);
    }
    assert.notEqual(services.redisLogin.password, services.postgresLogin.password);
    const acl = await readFile(join(dataDir, 'redis', 'users.acl'), 'utf8');
    assert.equal(await mode(join(dataDir, 'redis', 'users.acl')), '600');
    assert.match(acl, /^user default off$/m);
    assert.ok(!acl.includes(services.redisLogin.password), 'the ACL file holds a hash, not the password');
    const hba = await readFile(join(dataDir, 'postgres', 'data', 'pg_hba.conf'), 'utf8');
    const rules = hba.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.ok(rules.length >= 2 && rules.every((l) => /\sscram-sha-256$/.test(l)), `only scram rules: ${rules.join(' | ')}`);
    assert.equal(await mode(join(dataDir, 'postgres', 'data', 'pg_hba.conf')), '600');
  });

  it('Redis refuses a client without a password, with a wrong one, and the default user even with the right one', async () => {
    const none = await redisPing(redisPort);
    assert.match(none.out, /NOAUTH/);
    const wrong = await redisPing(redisPort, ['paas', 'not-the-password-0000']);
    assert.match(wrong.out, /WRONGPASS/);
    const defaultUser = await redisPing(redisPort, ['default', services.redisLogin.password]);
    assert.match(defaultUser.out, /WRONGPASS/);
    const right = await tool('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), '--user', 'paas', 'PING'], { REDISCLI_AUTH: services.redisLogin.password });
    assert.equal(right.out.trim(), 'PONG', 'the documented redis-cli command works');
  });

  it('Postgres refuses a client without a password and with a wrong one, over TCP and over its unix socket', async () => {
    for (const host of ['127.0.0.1', socketDir()]) {
      const none = await psql(host, postgresPort, 'paas');
      assert.notEqual(none.code, 0, `no password via ${host}`);
      assert.match(none.out, /no password supplied/, `no password via ${host}`);
      const wrong = await psql(host, postgresPort, 'paas', 'not-the-password-0000');
      assert.notEqual(wrong.code, 0, `wrong password via ${host}`);
      assert.match(wrong.out, /password authentication failed for user "paas"/, `wrong password via ${host}`);
      // Nor another role name (the stock superuser), which a trust or peer rule would have let in.
      const other = await psql(host, postgresPort, 'postgres');
      assert.match(other.out, /no password supplied/, `user postgres via ${host}`);
      const right = await psql(host, postgresPort, 'paas', services.postgresLogin.password);
      assert.equal(right.out.trim(), 'paas', `the password works via ${host}: ${right.out}`);
    }
  });

  it('Postgres keeps the password as a SCRAM-SHA-256 verifier and the paas database exists', async () => {
    const client = new Client({ host: '127.0.0.1', port: postgresPort, user: 'paas', password: services.postgresLogin.password, database: 'paas' });
    await client.connect();
    try {
      const row = await client.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'paas'");
      assert.match(row.rows[0]!.rolpassword, /^SCRAM-SHA-256\$4096:/);
      assert.equal((await client.query('SHOW password_encryption')).rows[0].password_encryption, 'scram-sha-256');
    } finally {
      await client.end();
    }
  });

  it('a second start reuses the same passwords, and a new password written into the file takes over (rotation)', async () => {
    const before = { ...services.redisLogin, pg: services.postgresLogin.password };
    await services.stop();
    ({ services, redisPort, postgresPort } = await startIn(dataDir));
    running.push(services);
    assert.equal(services.redisLogin.password, before.password);
    assert.equal(services.postgresLogin.password, before.pg);
    assert.equal((await psql('127.0.0.1', postgresPort, 'paas', before.pg)).out.trim(), 'paas');
    assert.equal((await redisPing(redisPort, ['paas', before.password])).out.trim(), 'PONG');

    await services.stop();
    const newRedis = 'rotated-redis-password-0123456789';
    const newPostgres = 'rotated-postgres-password-0123456789';
    await writeFile(join(dataDir, 'redis-password'), newRedis + '\n');
    await writeFile(join(dataDir, 'postgres-password'), newPostgres + '\n');
    ({ services, redisPort, postgresPort } = await startIn(dataDir));
    running.push(services);
    assert.match((await redisPing(redisPort, ['paas', before.password])).out, /WRONGPASS/, 'the old Redis password is refused');
    assert.equal((await redisPing(redisPort, ['paas', newRedis])).out.trim(), 'PONG');
    assert.match((await psql(socketDir(), postgresPort, 'paas', before.pg)).out, /password authentication failed/, 'the old Postgres password is refused');
    assert.equal((await psql(socketDir(), postgresPort, 'paas', newPostgres)).out.trim(), 'paas');
  });

  it('upgrades a data directory from before passwords (trust, no ACL, loose modes) in place, keeping its data', async () => {
    const old = await mkdtemp(join(tmpdir(), 'paas-data-services-old-'));
    dirs.push(old);
    // What the platform runner used to leave: a trust cluster, a Redis directory, readable token files.
    await mkdir(join(old, 'postgres'), { recursive: true });
    await mkdir(join(old, 'redis'), { recursive: true });
    await mkdir(join(old, 'logs'), { recursive: true });
    await run('chown', ['postgres:postgres', join(old, 'postgres')]);
    const [initdb, initArgs] = asPostgres(postgresBin('initdb'), ['-D', join(old, 'postgres', 'data'), '-A', 'trust', '-U', 'paas', '-E', 'UTF8', '--no-sync']);
    await run(initdb, initArgs);
    await writeFile(join(old, 'internal-token'), 'a'.repeat(64), { mode: 0o644 });
    await writeFile(join(old, 'admin-token'), 'paas_' + 'b'.repeat(48) + '\n', { mode: 0o644 });
    await chmod(old, 0o755);
    const oldPort = await freePort();
    const oldServer = postgresProcess(ROOT, old, oldPort, () => undefined);
    oldServer.start();
    try {
      await pollUntil('the trust-era postgres', async () => (await psql('127.0.0.1', oldPort, 'paas')).code === 0, { timeoutMs: 30_000, intervalMs: 200 });
      assert.equal((await psql(join(old, 'postgres'), oldPort, 'paas')).out.trim(), 'paas', 'the old cluster let anyone in without a password');
      await tool('psql', ['-w', '-h', '127.0.0.1', '-p', String(oldPort), '-U', 'paas', '-d', 'postgres', '-c', 'CREATE DATABASE paas']);
      const created = await tool('psql', ['-w', '-h', '127.0.0.1', '-p', String(oldPort), '-U', 'paas', '-d', 'paas', '-c', "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from before')"]);
      assert.equal(created.code, 0, created.out);
    } finally {
      await oldServer.stop();
    }

    const upgraded = await startIn(old);
    running.push(upgraded.services);
    const password = upgraded.services.postgresLogin.password;
    assert.equal(await mode(old), '711');
    for (const name of ['internal-token', 'admin-token', 'redis-password', 'postgres-password']) assert.equal(await mode(join(old, name)), '600', name);
    for (const host of ['127.0.0.1', join(old, 'postgres')]) {
      assert.match((await psql(host, upgraded.postgresPort, 'paas')).out, /no password supplied/, `trust is gone via ${host}`);
      assert.equal((await psql(host, upgraded.postgresPort, 'paas', password)).out.trim(), 'paas', `the new password works via ${host}`);
    }
    assert.doesNotMatch(await readFile(join(old, 'postgres', 'data', 'pg_hba.conf'), 'utf8'), /trust/);
    const kept = await tool('psql', ['-w', '-h', '127.0.0.1', '-p', String(upgraded.postgresPort), '-U', 'paas', '-d', 'paas', '-At', '-c', 'SELECT v FROM kept'], { PGPASSWORD: password });
    assert.equal(kept.out.trim(), 'from before', 'the data of the old cluster is still there');
    assert.match((await redisPing(upgraded.redisPort)).out, /NOAUTH/, 'the old Redis directory now has its ACL');
    assert.equal((await redisPing(upgraded.redisPort, ['paas', upgraded.services.redisLogin.password])).out.trim(), 'PONG');
  });

  it('a password file that is too short, or holds spaces, fails the start naming the file and the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paas-data-services-bad-'));
    dirs.push(dir);
    for (const bad of ['short', 'has a space in it somewhere']) {
      await writeFile(join(dir, 'postgres-password'), bad + '\n');
      await assert.rejects(dataDirSecret(dir, 'postgres-password'), (error: Error) => {
        assert.ok(error instanceof InvalidSecretFile);
        assert.match(error.message, /postgres-password must hold 16 to 256 printable ASCII characters/);
        assert.ok(!error.message.includes(bad), 'the message does not repeat the content');
        return true;
      });
    }
  });
});
