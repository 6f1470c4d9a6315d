/**
 * The HTTPS part of tools/bench/router: the router's TLS listener against nginx with the same
 * certificate and key (ECDSA P-256, self-signed for `localhost` and the bench host) and the same
 * TLS settings, side by side: HTTPS keep-alive requests/s (HTTP/1.1 over TLS, one handshake per
 * connection for the whole run), and new TLS handshakes/s (`Connection: close`: every request a
 * new TCP connection with a full handshake; wrk never resumes a session). wrk connects to
 * `localhost` so that it sends SNI (the router refuses a handshake without it).
 */
import { TLS_CIPHERS, type RedisKeys } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { publishCertificate, sealSecret } from '@paas/redis';
import type { Redis } from 'ioredis';
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { compare, fmt, medianRun, pad, type Target } from './router-compare';
import { freePort, tlsProxyNginxConf, type Child, type Children, type WrkOptions } from './router-kit';

export interface TlsBenchContext {
  work: string;
  children: Children;
  redis: Redis;
  keys: RedisKeys;
  host: string;
  backend: Child;
  backendPort: number;
  /** nginx worker processes (as many as router processes). */
  workers: number;
  wrkOpts: WrkOptions;
  rounds: number;
  /** Starts the router (its processes) with `env` added, once it answers on plain HTTP. */
  startRouter(name: string, env: NodeJS.ProcessEnv): Promise<Target>;
  /** The router's environment without access log (as nginx runs). */
  quietEnv: NodeJS.ProcessEnv;
}

/** Status of one HTTPS GET to localhost:port with the bench Host; 0 when it failed. */
function httpsStatus(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', path: '/', headers: { host }, agent: false, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(2_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function benchTls(c: TlsBenchContext): Promise<void> {
  const dir = join(c.work, 'tls');
  await mkdir(dir);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', `subjectAltName=DNS:localhost,DNS:${c.host}`], { stdio: 'ignore' });
  const chainPem = readFileSync(certFile, 'utf8');
  const secretKey = randomBytes(32);
  const secretFile = join(dir, 'secret.key');
  await writeFile(secretFile, secretKey.toString('base64'), { mode: 0o600 });
  await publishCertificate(c.redis, c.keys, {
    id: 'bench',
    names: ['localhost', c.host],
    chainPem,
    keySealed: sealSecret(secretKey, readFileSync(keyFile, 'utf8')),
    notAfter: Date.parse(new X509Certificate(chainPem).validTo),
  });

  const routerTlsPort = await freePort();
  const router = await c.startRouter('router https', { ...c.quietEnv, ROUTER_HTTPS_PORT: String(routerTlsPort), PAAS_SECRET_KEY_FILE: secretFile });
  await pollUntil('the router to answer 200 over HTTPS', async () => (await httpsStatus(routerTlsPort, c.host)) === 200, { timeoutMs: 15_000, intervalMs: 100 });

  const nginxDir = join(dir, 'nginx');
  await mkdir(nginxDir);
  const [nginxPort, nginxTlsPort] = [await freePort(), await freePort()];
  await writeFile(join(nginxDir, 'nginx.conf'), tlsProxyNginxConf(nginxDir, nginxPort, nginxTlsPort, c.backendPort, c.workers, certFile, keyFile, TLS_CIPHERS));
  const nginxChild = c.children.start('nginx tls proxy', 'nginx', ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-e', join(nginxDir, 'error.log')], join(nginxDir, 'stdout.log'));
  await pollUntil('the nginx TLS proxy to answer 200', async () => (await httpsStatus(nginxTlsPort, c.host)) === 200, { timeoutMs: 10_000, intervalMs: 50 });
  console.log(`\nHTTPS: ECDSA P-256 certificate for localhost and ${c.host}, the router's cipher list on both, wrk to https://localhost:PORT/ (SNI localhost, Host ${c.host}), no access log on either`);

  const keepAlive = { scheme: 'https' as const, connectHost: 'localhost' };
  const handshakes = { ...keepAlive, headers: ['Connection: close'] };
  const routerTarget = (wrk: Partial<WrkOptions>): Target => ({ ...router, name: 'router https', port: routerTlsPort, wrk });
  const nginxTarget = (wrk: Partial<WrkOptions>): Target => ({ name: 'nginx https', port: nginxTlsPort, child: nginxChild, wrk });

  const ka = await compare('HTTPS keep-alive (HTTP/1.1 over TLS)', [routerTarget(keepAlive), nginxTarget(keepAlive)], c.backend, c.wrkOpts, c.rounds);
  const hsOpts = { ...c.wrkOpts, connections: Math.min(c.wrkOpts.connections, 16) };
  const hs = await compare(`new TLS handshakes (Connection: close: a TCP connection, a full handshake and one request each; -c${hsOpts.connections})`, [routerTarget(handshakes), nginxTarget(handshakes)], c.backend, hsOpts, c.rounds);

  console.log('\nrouter / nginx over HTTPS (medians)');
  for (const [what, runs] of [
    ['keep-alive req/s', ka],
    ['handshakes/s', hs],
  ] as const) {
    const r = medianRun('router https', runs.get('router https') ?? []);
    const n = medianRun('nginx https', runs.get('nginx https') ?? []);
    console.log(
      `  ${pad(what, 18)} router ${fmt(r.reqPerSec, 0)}  nginx ${fmt(n.reqPerSec, 0)}  ratio ${fmt(r.reqPerSec / n.reqPerSec)}  cpu/req ${fmt(r.cpuPerReqUs, 0)} vs ${fmt(n.cpuPerReqUs, 0)} µs (${fmt(r.cpuPerReqUs / n.cpuPerReqUs, 1)}x)  p99 ${fmt(r.p99)} vs ${fmt(n.p99)} ms  errors ${r.errors}/${n.errors}`,
    );
  }
  await c.children.stop(nginxChild);
  for (const child of [router.child, ...(router.siblings ?? [])]) await c.children.stop(child);
}
