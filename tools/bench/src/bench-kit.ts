/** What every bench needs: the API as the admin, and GETs through the router with a Host header. */
import { Agent, request } from 'node:http';
import type { InstanceView } from '@paas/contracts';
import type { TestPlatform } from '@paas/test-platform';
import { pollUntil, StopPolling } from '@paas/local-services';

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

/** The app's `web` instances, as the API shows them. */
export async function webInstances(platform: TestPlatform, app: string): Promise<InstanceView[]> {
  const { resources } = await benchApi<{ resources: InstanceView[] }>(platform, 'GET', `/v1/apps/${app}/instances`);
  return resources.filter((i) => i.process_type === 'web');
}

interface DeploymentView {
  id: string;
  state: string;
  reason: string | null;
}

/**
 * Polls every pollMs until the deployment (by id; else the app's newest) is DEPLOYED and returns
 * how long that took; fails on FAILED/CANCELED or after timeoutMs.
 */
export async function waitForDeployed(platform: TestPlatform, app: string, what: string, options: { id?: string; timeoutMs: number; pollMs: number }): Promise<number> {
  const { id, timeoutMs, pollMs } = options;
  const t0 = Date.now();
  return pollUntil(
    `${what}: a DEPLOYED deployment`,
    async () => {
      const latest = id
        ? await benchApi<DeploymentView>(platform, 'GET', `/v1/apps/${app}/deployments/${id}`)
        : (await benchApi<{ resources: DeploymentView[] }>(platform, 'GET', `/v1/apps/${app}/deployments?per_page=1`)).resources[0];
      if (latest?.state === 'DEPLOYED') return Date.now() - t0;
      if (latest && (latest.state === 'FAILED' || latest.state === 'CANCELED')) throw new StopPolling(new Error(`${what}: deployment ${latest.state}: ${latest.reason ?? ''}`));
      return undefined;
    },
    { timeoutMs, intervalMs: pollMs },
  );
}

/**
 * Requests through the router for `host` (`concurrency` at once over `agent`; `pauseMs` after an
 * answer, 50 ms after a miss, when nothing is routable yet) until every instance index in
 * [0, count) has answered ("Hello from HOST instance N", as examples/hello-node says), or
 * `maxRequests`, the time since `t0` or `stop` ends it. Returns the indexes that never answered.
 */
export async function answerIndexes(
  platform: TestPlatform,
  host: string,
  count: number,
  o: { t0: number; timeoutMs: number; maxRequests: number; stop: AbortSignal; agent: Agent; concurrency: number; pauseMs: number },
): Promise<{ missing: number[]; requests: number; ms: number }> {
  const seen = new Set<number>();
  let requests = 0;
  const worker = async () => {
    while (seen.size < count && requests < o.maxRequests && Date.now() - o.t0 < o.timeoutMs && !o.stop.aborted) {
      requests++;
      const r = await routerGet(platform, host, o.agent);
      const match = r.status === 200 ? /Hello from \S+ instance (\d+)/.exec(r.text) : null;
      if (match && Number(match[1]) < count) seen.add(Number(match[1]));
      await new Promise((resolve) => setTimeout(resolve, match ? o.pauseMs : 50));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  return { missing, requests, ms: Date.now() - o.t0 };
}
