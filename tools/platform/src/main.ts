/**
 * `npm start`: runs the whole platform on this machine until Ctrl-C. Settings come from the
 * environment: PAAS_DATA_DIR (default .paas in the checkout), PAAS_API_PORT (4000),
 * PAAS_ROUTER_PORT (8080), PAAS_ROUTER_PROCESSES (2), PAAS_ROUTER_ADMIN_PORT (8081: router process
 * N serves /health and /metrics on 8081 + N - 1), PAAS_REDIS_PORT (6380), PAAS_POSTGRES_PORT (5433),
 * PAAS_CELLS (2), PAAS_CELL_METRICS_PORT (9101: cell N serves Prometheus /metrics on 9101 + N - 1),
 * PAAS_ROUTER_HTTPS_PORT (8443: the routers' TLS listener). PAAS_ACME_DIRECTORY_URL,
 * PAAS_ACME_CA_FILE, PAAS_ACME_EMAIL, PAAS_DNS_RESOLVER, PAAS_CERT_RENEW_BEFORE_S and
 * PAAS_ACME_RETRY_BASE_S are passed to the controller when set (docs/https.md).
 * `restart-router` (npm run restart:router) asks the running platform of PAAS_DATA_DIR for a
 * rolling restart of its router processes, which drops no request.
 */
import { resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { redactUrl } from '@paas/contracts';
import { DEFAULT_ROUTER_PROCESSES, PlatformAlreadyRunning, cellNetworksFromEnvFile, startPlatform } from './platform';
import { requestRouterRestart, serveRouterRestarts } from './router-restart-control';

const root = resolve(__dirname, '..', '..', '..');
/** The runner's environment the controller gets as it is, when set: ACME, DNS verification, renewal. */
const CONTROLLER_PASSTHROUGH_ENV = ['PAAS_ACME_DIRECTORY_URL', 'PAAS_ACME_CA_FILE', 'PAAS_ACME_EMAIL', 'PAAS_DNS_RESOLVER', 'PAAS_CERT_RENEW_BEFORE_S', 'PAAS_ACME_RETRY_BASE_S'] as const;
const env = process.env;
const num = (name: string, fallback: number) => {
  const value = env[name] ? Number(env[name]) : fallback;
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${name} must be a positive integer, got "${env[name]}"`);
    process.exit(2);
  }
  return value;
};

async function restartRouter(dataDir: string): Promise<void> {
  try {
    const outcome = await requestRouterRestart(dataDir, 5 * 60_000, (message) => console.log(message));
    (outcome.event === 'done' ? console.log : console.error)(outcome.message);
    process.exit(outcome.event === 'done' ? 0 : 1);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (command !== 'start' && command !== 'restart-router') {
    console.error('usage: node tools/platform/dist/main.js start | restart-router');
    process.exit(2);
  }
  const dataDir = resolve(env.PAAS_DATA_DIR ?? resolve(root, '.paas'));
  if (command === 'restart-router') return restartRouter(dataDir);
  if (process.getuid?.() !== 0) {
    console.error('the platform runs containers (runc, network namespaces, iptables): run npm start as root');
    process.exit(1);
  }
  const routerProcesses = num('PAAS_ROUTER_PROCESSES', DEFAULT_ROUTER_PROCESSES);
  const routerAdminPort = num('PAAS_ROUTER_ADMIN_PORT', 8081);
  const options = {
    rootDir: root,
    dataDir,
    controllerPort: num('PAAS_API_PORT', 4000),
    routerPort: num('PAAS_ROUTER_PORT', 8080),
    routerHttpsPort: num('PAAS_ROUTER_HTTPS_PORT', 8443),
    redisPort: num('PAAS_REDIS_PORT', 6380),
    postgresPort: num('PAAS_POSTGRES_PORT', 5433),
    redisPrefix: 'paas',
    appsDomain: env.PAAS_APPS_DOMAIN ?? 'apps.localhost',
    cells: cellNetworksFromEnvFile(readFileSync(resolve(root, 'infra', 'cell-network.env'), 'utf8'), 'paas', num('PAAS_CELLS', 2)).map(
      (cell, i) => ({ ...cell, metricsPort: num('PAAS_CELL_METRICS_PORT', 9101) + i }),
    ),
    onEvent: (m: string) => console.log(`[platform] ${m}`),
    routerProcesses,
    routerAdminPorts: Array.from({ length: routerProcesses }, (_, i) => routerAdminPort + i),
    // The operator's buildpacks: every directory dropped here is tried before the built-ins.
    buildpacksDir: resolve(env.PAAS_BUILDPACKS_DIR ?? resolve(root, 'buildpacks')),
    controllerEnv: Object.fromEntries(CONTROLLER_PASSTHROUGH_ENV.flatMap((name) => (env[name] ? [[name, env[name]]] : []))) as Record<string, string>,
  };
  console.log(`[platform] starting from ${dataDir} (logs in ${dataDir}/logs)`);
  let platform;
  try {
    platform = await startPlatform(options);
  } catch (error) {
    console.error(`[platform] ${(error as Error).message}`);
    process.exit(error instanceof PlatformAlreadyRunning ? 3 : 1);
  }
  const p = platform;
  console.log(`
The platform is running.
  API:          ${p.apiUrl}   (reference: ${p.apiUrl}/v1/docs)
  Router:       ${p.routerUrl}   (apps answer at http://NAME.${options.appsDomain}:${options.routerPort}/)
  HTTPS:        https://NAME.${options.appsDomain}:${options.routerHttpsPort}/   (certificates from the platform's own CA, ${p.caFile})
                curl --cacert ${p.caFile} https://NAME.${options.appsDomain}:${options.routerHttpsPort}/
                trust it system-wide: cp ${p.caFile} /usr/local/share/ca-certificates/paas-local-ca.crt && update-ca-certificates
                ACME: ${options.controllerEnv.PAAS_ACME_DIRECTORY_URL ? `orders from ${options.controllerEnv.PAAS_ACME_DIRECTORY_URL} (paas enable-ssl HOST)` : 'off (set PAAS_ACME_DIRECTORY_URL for paas enable-ssl)'}
  Router admin: ${options.routerAdminPorts.map((port, i) => `http://127.0.0.1:${port}/metrics and /health (router-${i + 1})`).join('   ')}
                rolling restart of the ${routerProcesses} router processes: npm run restart:router
  Metrics:      ${p.apiUrl}/metrics (controller)   ${options.cells.map((c) => `http://127.0.0.1:${c.metricsPort}/metrics (${c.id})`).join('   ')}
  Admin token:  ${p.adminToken}   (also in ${dataDir}/admin-token)
  Redis:        ${redactUrl(p.redisUrl)}   (password in ${dataDir}/redis-password)
                REDISCLI_AUTH="$(cat ${dataDir}/redis-password)" redis-cli -p ${options.redisPort} --user paas
  Postgres:     ${redactUrl(p.databaseUrl)}   (password in ${dataDir}/postgres-password)
                PGPASSWORD="$(cat ${dataDir}/postgres-password)" psql -h 127.0.0.1 -p ${options.postgresPort} -U paas paas
  Git remote:   http://paas:<token>@127.0.0.1:${options.controllerPort}/git/NAME.git
  Dashboard:    ${existsSync(resolve(root, 'apps', 'dashboard', 'dist', 'index.html')) ? `${p.apiUrl}/   (sign in with the admin token)` : 'not built: run bash tools/bootstrap.sh'}

Push an app:
  curl -H "Authorization: Bearer $(cat ${dataDir}/admin-token)" -H 'content-type: application/json' \\
       -d '{"name":"hello"}' ${p.apiUrl}/v1/apps
  git push http://paas:$(cat ${dataDir}/admin-token)@127.0.0.1:${options.controllerPort}/git/hello.git main
  curl http://hello.${options.appsDomain}:${options.routerPort}/
  curl --cacert ${p.caFile} https://hello.${options.appsDomain}:${options.routerHttpsPort}/

Press Ctrl-C to stop everything.`);
  const control = await serveRouterRestarts(dataDir, p, options.onEvent).catch((error: Error) => {
    console.error(`[platform] no control socket (npm run restart:router will not work): ${error.message}`);
    return undefined;
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[platform] ${signal}: stopping cells, router, controller, redis and postgres`);
    Promise.all([control?.close(), p.stop()]).then(
      () => {
        console.log('[platform] stopped');
        process.exit(0);
      },
      (error: Error) => {
        console.error(`[platform] stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
