/**
 * Every component boots against the private Redis and Postgres only with their passwords: the
 * built controller, its migrations, a cell and the router, started as npm start and systemd start
 * them (node dist/main.js with an environment), with REDIS_URL or DATABASE_URL missing the password
 * or holding a wrong one, exit non-zero with a message that names the service, the URL without its
 * password and the fix, and never print the password they were given.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, postgresUrlOf, redisUrlOf, startDataServices, type DataServices } from '@paas/local-services';

/** The checkout this spec was built in. */
const ROOT = resolve(__dirname, '..', '..', '..');

interface Exit {
  code: number | null;
  output: string;
}

/** Runs a built component with exactly this environment; kills it after 60 s (a boot that hangs is a failure too). */
function boot(script: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, script)], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('components refuse to boot without the right Redis and Postgres passwords', () => {
  let dataDir: string;
  let services: DataServices;
  let redisPort: number;
  let postgresPort: number;
  const wrong = `wrong-${randomBytes(8).toString('hex')}`;
  const internalToken = randomBytes(32).toString('hex');

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'paas-service-logins-'));
    redisPort = await freePort();
    postgresPort = await freePort();
    services = await startDataServices({ rootDir: ROOT, dataDir, redisPort, postgresPort });
  });

  after(async () => {
    await services?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const redisUrls = () => ({
    none: `redis://127.0.0.1:${redisPort}`,
    wrong: redisUrlOf('127.0.0.1', redisPort, { user: 'paas', password: wrong }),
    right: redisUrlOf('127.0.0.1', redisPort, services.redisLogin),
  });
  const databaseUrls = () => ({
    none: `postgresql://paas@127.0.0.1:${postgresPort}/paas`,
    wrong: postgresUrlOf('127.0.0.1', postgresPort, { user: 'paas', password: wrong }),
    right: postgresUrlOf('127.0.0.1', postgresPort, services.postgresLogin),
  });
  const controllerEnv = (databaseUrl: string, redisUrl: string) => ({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    CONTROLLER_PORT: '1',
    PAAS_BLOBSTORE_DIR: join(dataDir, 'blobstore'),
    PAAS_INTERNAL_TOKEN: internalToken,
    PAAS_ADMIN_TOKEN_FILE: join(dataDir, 'admin-token'),
  });

  const assertRefused = (exit: Exit, service: RegExp, redacted: string) => {
    assert.notEqual(exit.code, 0, exit.output);
    assert.notEqual(exit.code, null, `it did not hang: ${exit.output}`);
    assert.match(exit.output, service);
    assert.ok(exit.output.includes(redacted), `names the URL without its password (${redacted}): ${exit.output}`);
    assert.match(exit.output, /docs\/operations\.md/, 'points at the fix');
    assert.ok(!exit.output.includes(wrong), 'never prints the password it was given');
    assert.ok(!exit.output.includes(services.redisLogin.password) && !exit.output.includes(services.postgresLogin.password));
  };

  it('the migrations and the controller, with DATABASE_URL missing its password or holding a wrong one', async () => {
    const urls = databaseUrls();
    const migrateNone = await boot('apps/controller/dist/migrate.js', { DATABASE_URL: urls.none });
    assertRefused(migrateNone, /cannot use Postgres at .*asks for a password and DATABASE_URL has none/, urls.none);
    const migrateWrong = await boot('apps/controller/dist/migrate.js', { DATABASE_URL: urls.wrong });
    assertRefused(migrateWrong, /password authentication failed for user "paas"/, `postgresql://paas:***@127.0.0.1:${postgresPort}/paas`);
    const controller = await boot('apps/controller/dist/main.js', controllerEnv(urls.wrong, redisUrls().right));
    assertRefused(controller, /the controller cannot use Postgres at .*password authentication failed/, `postgresql://paas:***@127.0.0.1:${postgresPort}/paas`);
  });

  it('the controller, a cell and the router, with REDIS_URL missing its password or holding a wrong one', async () => {
    const urls = redisUrls();
    const redacted = `redis://paas:***@127.0.0.1:${redisPort}`;
    const controller = await boot('apps/controller/dist/main.js', controllerEnv(databaseUrls().right, urls.wrong));
    assertRefused(controller, /the controller cannot use Redis at .*WRONGPASS/, redacted);
    const cellEnv = (redisUrl: string) => ({
      CELL_ID: 'cell-login',
      CELL_DATA_DIR: join(dataDir, 'cell'),
      CELL_BRIDGE: 'sl-none',
      CELL_SUBNET: '10.252.1.0/24',
      CELL_IPTABLES_CHAIN: 'SL-NONE',
      CELL_CONTAINER_PREFIX: 'sl-c1',
      REDIS_URL: redisUrl,
      PAAS_INTERNAL_TOKEN: internalToken,
    });
    assertRefused(await boot('apps/cell/dist/main.js', cellEnv(urls.none)), /the cell cell-login cannot use Redis at .*NOAUTH/, urls.none);
    assertRefused(await boot('apps/cell/dist/main.js', cellEnv(urls.wrong)), /the cell cell-login cannot use Redis at .*WRONGPASS/, redacted);
    const routerEnv = (redisUrl: string) => ({ REDIS_URL: redisUrl, ROUTER_PORT: '0', ROUTER_HOST: '127.0.0.1' });
    assertRefused(await boot('apps/router/dist/main.js', routerEnv(urls.none)), /the router cannot use Redis at .*NOAUTH/, urls.none);
    assertRefused(await boot('apps/router/dist/main.js', routerEnv(urls.wrong)), /the router cannot use Redis at .*WRONGPASS/, redacted);
  });

  it('the migrations run with the right password (the check lets a good login through)', async () => {
    const migrated = await boot('apps/controller/dist/migrate.js', { DATABASE_URL: databaseUrls().right });
    assert.equal(migrated.code, 0, migrated.output);
    assert.match(migrated.output, /applied migrations|database is up to date/);
    assert.ok(!migrated.output.includes(services.postgresLogin.password));
  });
});
