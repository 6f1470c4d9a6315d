import type { RouterConfig } from './config';
/**
 * Support for the router's integration specs: a throwaway redis-server, tiny HTTP and WebSocket
 * backends on 127.0.0.1 and a request helper (polls: pollUntil of @paas/local-services). Test-only.
 */
import { Redis } from 'ioredis';
import { freePort, redisLogin, redisUrlOf, writeRedisAcl } from '@paas/local-services';
import { ROUTER_NODE_FLAGS } from '@paas/contracts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { join } from 'node:path';
import { pollUntil } from '@paas/local-services';

// ---------- helpers ----------

/**
 * A port nothing listens on, below the kernel's ephemeral range (the platform's one freePort): a
 * port from listen(0) is an ephemeral one, and a connect to it from 127.0.0.1 can be given that same
 * port as its local end and connect to itself (TCP self-connect), so a "dead" backend answered
 * nothing instead of refusing.
 */
export { freePort };

export interface RedisProcess {
  port: number;
  url: string;
  kill(): void;
  restart(): Promise<void>;
}

/**
 * Starts a throwaway redis-server on a free port, behind a password as the platform's own Redis
 * (default user off, the `paas` user with a password from `dir`); `url` carries the login, `kill`
 * stops it by pid.
 */
export async function startRedisServer(dir: string): Promise<RedisProcess> {
  const port = await freePort();
  const login = await redisLogin(dir);
  const acl = await writeRedisAcl(dir, login);
  const url = redisUrlOf('127.0.0.1', port, login);
  let child: ChildProcess | undefined;
  const spawnIt = async () => {
    child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--aclfile', acl], {
      stdio: 'ignore',
    });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await pollUntil('redis-server to answer PING', async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping()) === 'PONG' ? true : undefined;
      }, { timeoutMs: 5_000 });
    } finally {
      probe.disconnect();
    }
  };
  await spawnIt();
  const kill = () => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  };
  return {
    port,
    url,
    kill,
    restart: spawnIt,
  };
}

export interface Backend {
  name: string;
  port: number;
  address: string;
  seen: http.IncomingHttpHeaders[];
  /** Request targets (path and query) it received. */
  paths: string[];
  /** Upgraded (WebSocket) connections still open on the backend side (WebSocket backends only). */
  openSockets?(): number;
  close(): Promise<void>;
}

/** A tiny app: answers `hello from <name>` and records the headers and paths it saw. */
export async function startBackend(name: string): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    paths.push(req.url ?? '');
    const body = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      body.update(c);
      length += c.length;
    });
    req.on('end', () => res.end(length === 0 ? `hello from ${name}` : `${name} got ${length} bytes ${body.digest('hex')}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    seen,
    paths,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A WebSocket echo backend: the server handshake and single small frames, by hand. */
export async function startWsEchoBackend(): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  const sockets = new Set<net.Socket>();
  server.on('upgrade', (req, socket: net.Socket) => {
    seen.push(req.headers);
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Client frames are masked; this echo only handles payloads under 126 bytes.
      while (buffered.length >= 6) {
        const opcode = buffered[0]! & 0x0f;
        const length = buffered[1]! & 0x7f;
        if (buffered.length < 6 + length) return;
        const mask = buffered.subarray(2, 6);
        const payload = Buffer.from(buffered.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
        buffered = buffered.subarray(6 + length);
        if (opcode === 0x8) {
          socket.end(Buffer.from([0x88, 0x00]));
          return;
        }
        socket.write(Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name: 'ws-echo',
    port,
    address: `127.0.0.1:${port}`,
    seen,
    paths: [],
    openSockets: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to the router on 127.0.0.1 with the given Host header, on a fresh connection. */
export function request(port: number, host: string, path = '/', headers: http.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const method = body ? 'POST' : 'GET';
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host, ...headers }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A router config for a test: its own Redis and prefix, an ephemeral port on 127.0.0.1, short timeouts. */
export function testRouterConfig(redisUrl: string, redisPrefix: string, overrides: Partial<RouterConfig> = {}): RouterConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    redisUrl,
    redisPrefix,
    logLevel: 'silent',
    resyncIntervalMs: 30_000,
    connectTimeoutMs: 2_000,
    backendTimeoutMs: 10_000,
    shutdownTimeoutMs: 2_000,
    ...overrides,
  };
}

export interface RouterProcess {
  port: number;
  pid: number;
  /** Ends it by its pid (SIGKILL) and waits for its exit; safe twice. */
  kill(): Promise<void>;
}

/**
 * A real router process (`node dist/main.js`, as the platform runs it) on a free port of
 * 127.0.0.1, reading routes from `redisUrl` under `prefix`, with `env` as further settings.
 * Resolves once `serves(port)` says it serves what the test set up (polled up to 20 s); ends it
 * if that never comes.
 */
export async function startRouterProcess(options: {
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
  what: string;
  serves: (port: number) => Promise<boolean>;
}): Promise<RouterProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...ROUTER_NODE_FLAGS, join(__dirname, 'main.js')], {
    env: {
      PATH: process.env.PATH,
      ROUTER_PORT: String(port),
      ROUTER_HOST: '127.0.0.1',
      REDIS_URL: options.redisUrl,
      PAAS_REDIS_PREFIX: options.prefix,
      LOG_LEVEL: 'silent',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kill = async () => {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  try {
    await pollUntil(`the router process to serve ${options.what}`, async () => ((await options.serves(port).catch(() => false)) ? true : undefined), { timeoutMs: 20_000 });
  } catch (error) {
    await kill();
    throw error;
  }
  return { port, pid: child.pid!, kill };
}
