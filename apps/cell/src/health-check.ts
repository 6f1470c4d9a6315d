import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheck } from '@paas/contracts';

/** True when a TCP connection to host:port opens within timeoutMs (the `port` health check). */
export function portAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when GET path answers with a 2xx status within timeoutMs (the `http` health check). */
export function httpAnswers2xx(host: string, port: number, path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', headers: { 'user-agent': 'paas-health-check' } }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Whether an instance passes its health check at the endpoint the router dials, `address:hostPort`
 * (the cell's DNAT rules match only that address): `process` passes while it runs (an exit is
 * noticed by the caller), `http` wants a 2xx from its endpoint, `port` a connection.
 */
export function passesHealthCheck(check: HealthCheck, address: string, hostPort: number): Promise<boolean> {
  switch (check.type) {
    case 'process':
      return Promise.resolve(true);
    case 'http':
      return httpAnswers2xx(address, hostPort, check.endpoint ?? '/', 1_000);
    case 'port':
      return portAnswers(address, hostPort, 500);
  }
}
