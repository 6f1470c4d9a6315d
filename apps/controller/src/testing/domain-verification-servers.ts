/**
 * What domain-verification tests talk to: a real DNS server (pebble-challtestsrv, the Debian
 * package) the test scripts through its management API, and HTTP servers on loopback addresses
 * standing in for what a domain may point at: the platform's router (answering
 * /.well-known/paas-domain-verification/ from the well-known answers in Redis, as the router
 * does) or a foreign server. Each is started on free ports and stopped by its own handle.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { normalizeHost, wellKnownField, type RedisKeys } from '@paas/contracts';
import { readWellKnownAnswers } from '@paas/redis';
import { freePort, pollUntil } from '@paas/local-services';

export interface FakeDns {
  /** IP:port, as PAAS_DNS_RESOLVER takes it. */
  address: string;
  /** The name answers A queries with these addresses (no name answers A or AAAA otherwise). */
  addA(host: string, addresses: string[]): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  /** Kills the server (by its pid) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts pebble-challtestsrv with only its DNS server (and management API) on free loopback ports. */
export async function startFakeDns(): Promise<FakeDns> {
  const dnsPort = await freePort();
  const managementPort = await freePort();
  const child = spawn(
    '/usr/bin/pebble-challtestsrv',
    ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${managementPort}`, '-defaultIPv4', '', '-defaultIPv6', ''],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  const manage = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`pebble-challtestsrv ${path} answered ${res.status}: ${await res.text()}`);
  };
  const fqdn = (host: string) => (host.endsWith('.') ? host : `${host}.`);
  try {
    await pollUntil('pebble-challtestsrv to answer', async () => {
      if (child.exitCode !== null) throw new Error(`pebble-challtestsrv exited (${child.exitCode}): ${stderr}`);
      return fetch(`http://127.0.0.1:${managementPort}/clear-txt`, { method: 'POST', body: '{"host":"ready.test."}' }).then((r) => r.ok, () => false);
    }, { timeoutMs: 10_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address: `127.0.0.1:${dnsPort}`,
    addA: (host, addresses) => manage('/add-a', { host: fqdn(host), addresses }),
    setTxt: (host, value) => manage('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => manage('/clear-txt', { host: fqdn(host) }),
    stop,
  };
}

export interface TestHttpServer {
  close(): Promise<void>;
}

function listen(server: Server, address: string, port: number): Promise<TestHttpServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      }),
    );
  });
}

/**
 * Answers as the router answers under /.well-known/: the body of the well-known answer for the
 * request's Host and path (readWellKnownAnswers, what the controller published), else 404.
 */
export function startWellKnownResponder(store: () => { redis: Redis; keys: RedisKeys }, address: string, port: number): Promise<TestHttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void Promise.resolve()
      .then(() => readWellKnownAnswers(store().redis, store().keys))
      .then(
      (answers) => {
        const answer = answers.get(wellKnownField(normalizeHost(req.headers.host ?? ''), req.url ?? ''));
        res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ? answer.body : 'no route\n');
      },
      () => res.writeHead(502).end(),
    );
  });
  return listen(server, address, port);
}

/** A server that is not the platform's: `answer(host)` says what it answers each Host with. */
export function startForeignServer(address: string, port: number, answer: (host: string) => { status: number; body: string }): Promise<TestHttpServer> {
  const server = createServer((req, res) => {
    const { status, body } = answer(normalizeHost(req.headers.host ?? ''));
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  return listen(server, address, port);
}
