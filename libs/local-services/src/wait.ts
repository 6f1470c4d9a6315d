import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The first port of the kernel's ephemeral range (outgoing connections take their local port from it). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether a listener can take the port on every address now (what redis-server, postgres and our servers do). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port nobody uses now, from 20000 up to the kernel's ephemeral range (32768 here): tests and
 * benches pick their service ports here. Below the ephemeral range, because a port an outgoing
 * connection holds as its local port looks free to a connect() probe yet makes a later bind fail
 * (a private Redis that never came up); below the cells' host-port blocks (40000 and up) too,
 * which a container's DNAT rule would capture.
 */
export async function freePort(): Promise<number> {
  const high = Math.min(ephemeralLow(), 40_000);
  const span = Math.max(high - 20_000, 1_000);
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * span);
    if (!(await portOpen(port)) && (await canListen(port))) return port;
  }
  throw new Error('no free port found in 50 tries');
}
