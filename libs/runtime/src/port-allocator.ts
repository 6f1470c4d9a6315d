import { createServer } from 'node:net';
import type { Subnet } from './network';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/** Lowest free address in .2-.254 of the /24 (.1 is the gateway). */
export function allocateIp(subnet: Subnet, used: ReadonlySet<string>): string {
  for (let host = 2; host <= 254; host++) {
    const ip = `${subnet.prefix}.${host}`;
    if (!used.has(ip)) return ip;
  }
  throw new RuntimeError(RuntimeErrorCode.NoFreeAddress, `no free address left in ${subnet.cidr}`);
}

/** True when nothing on the host listens on the TCP port (a DNAT rule would shadow it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Next free port after `cursor` in [low, high], wrapping around. Moving on from the last
 * allocation (rather than taking the lowest) keeps a just-freed port, which a router may still
 * point at for a moment, out of use for as long as possible.
 */
export async function allocatePort(
  range: [number, number],
  used: ReadonlySet<number>,
  cursor: number | undefined,
  isFree: (port: number) => Promise<boolean> = portIsFree,
): Promise<number> {
  const [low, high] = range;
  const size = high - low + 1;
  const start = cursor !== undefined && cursor >= low && cursor <= high ? cursor - low + 1 : 0;
  for (let i = 0; i < size; i++) {
    const port = low + ((start + i) % size);
    if (!used.has(port) && (await isFree(port))) return port;
  }
  throw new RuntimeError(RuntimeErrorCode.NoFreePort, `no free host port left in ${low}-${high}`);
}

/**
 * A fixed host port (ContainerSpec.hostPort): PortInUse when another container holds it (`used`)
 * or something on the host listens on it. Whether it lies in the runtime's range does not matter;
 * while a container holds it, it is in `used`, so allocatePort never hands it out.
 */
export async function claimPort(port: number, used: ReadonlySet<number>, isFree: (port: number) => Promise<boolean> = portIsFree): Promise<number> {
  if (used.has(port)) throw new RuntimeError(RuntimeErrorCode.PortInUse, `host port ${port} is held by another container of this runtime`);
  if (!(await isFree(port))) throw new RuntimeError(RuntimeErrorCode.PortInUse, `host port ${port} is in use on the host (something listens on it)`);
  return port;
}
