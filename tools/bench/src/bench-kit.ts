/** What every bench needs: the API as the admin, and GETs through the router with a Host header. */
import { Agent, request } from 'node:http';
import type { TestPlatform } from '@paas/platform';

/** Calls the controller's API as the admin; throws with the answer on any 4xx/5xx. */
export async function benchApi<T = Record<string, unknown>>(platform: TestPlatform, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(platform.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** One GET through the router for a host; status 0 when the request failed. */
export function routerGet(platform: TestPlatform, host: string, agent?: Agent, path = '/'): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: platform.routerPort, path, headers: { host }, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.setTimeout(5_000, () => req.destroy());
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end();
  });
}
