import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { portAnswers } from '../health-check';
import type { ServiceRecord } from './service-registry';

/**
 * What a cell learns of a running server beyond its container's counters. Read-only; safe to call
 * at any time, concurrently, also on a container that just ended (then: undefined, false).
 */
export interface ServiceProbes {
  /** Established TCP connections to `port` in the network namespace of process `pid` (the container's first process); undefined when unknown. */
  connections(pid: number, port: number): Promise<number | undefined>;
  /** Whether the server serves its protocol at address:port now (redis: the admin's AUTH and a PING answered PONG, not LOADING; postgres: a TCP connection). */
  serverAnswers(record: ServiceRecord, address: string): Promise<boolean>;
}

/** The real host's: the kernel's socket tables of the container (/proc/PID/net/tcp, tcp6), the server's own protocol. */
export const hostServiceProbes: ServiceProbes = {
  async connections(pid, port) {
    const tables = await Promise.all(['tcp', 'tcp6'].map((name) => readFile(`/proc/${pid}/net/${name}`, 'utf8').catch(() => undefined)));
    if (tables.every((t) => t === undefined)) return undefined;
    return tables.reduce((sum, table) => sum + (table ? countEstablished(table, port) : 0), 0);
  },
  serverAnswers: (record, address) =>
    record.job.kind === 'redis'
      ? redisAnswers(address, record.hostPort, record.job.adminUser, record.job.adminPassword)
      : portAnswers(address, record.hostPort, 1_000),
};

/** The fake runtime's: its containers have no network namespace (no count) and answer HTTP on their port (a connection is all there is). */
export const fakeServiceProbes: ServiceProbes = {
  connections: async () => undefined,
  serverAnswers: (record, address) => portAnswers(address, record.hostPort, 1_000),
};

/** TCP state ESTABLISHED in /proc/net/tcp's `st` column. */
const ESTABLISHED = '01';

/**
 * Sockets in state ESTABLISHED whose local port is `port` in one /proc/net/tcp or tcp6 table
 * (`sl local_address rem_address st ...`, addresses as HEXADDR:HEXPORT): the clients connected to
 * a server listening on it. Pure.
 */
export function countEstablished(table: string, port: number): number {
  let count = 0;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== ESTABLISHED) continue;
    const local = fields[1]!;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) count++;
  }
  return count;
}

/** A RESP command (an array of bulk strings). */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * True when the Redis at host:port takes `user`'s AUTH and answers PING with PONG within
 * timeoutMs: it runs and has loaded its data (while loading it answers -LOADING). The password
 * goes over the socket only.
 */
export function redisAnswers(host: string, port: number, user: string, password: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write(resp('AUTH', user, password) + resp('PING')));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const lines = received.split('\r\n');
      if (lines.length < 3) return;
      done(lines[0] === '+OK' && lines[1] === '+PONG');
    });
    socket.once('error', () => done(false));
    socket.once('end', () => done(false));
  });
}
