/**
 * `paas logs NAME` follows the log stream and resumes after a dropped connection, against a fake
 * API on 127.0.0.1 that drops the first connection after three entries: the real binary must
 * reconnect with Last-Event-ID and print every entry exactly once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pollUntil } from '@paas/local-services';

const CLI = join(__dirname, '..', 'main.js');
const entry = (n: number) => ({ id: `${1000 + n}-0`, timestamp: new Date(1_700_000_000_000 + n).toISOString(), source: 'APP/PROC/WEB/0', stream: n % 2 ? 'OUT' : 'ERR', text: `line ${n}` });
const app = { id: '7b0f1b1e-0000-4000-8000-000000000001', name: 'shop', state: 'STARTED', space_id: 's', space_name: 'default', org_name: 'default', current_release_id: null, url: 'http://shop.apps.localhost/', git_url: 'http://x/git/shop.git', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };

test('logs follows the stream and resumes after a dropped connection without gaps or repeats', async () => {
  const connections: Array<{ lastEventId?: string; recent?: string | null }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== 'Bearer t0k') return void res.writeHead(401).end();
    if (url.pathname === '/v1/apps/shop') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(app));
    if (url.pathname !== `/v1/apps/${app.id}/logs/stream`) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not-found","message":"no"}}');
    const lastEventId = req.headers['last-event-id'] as string | undefined;
    connections.push({ lastEventId, recent: url.searchParams.get('recent') });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (n: number) => res.write(`id: ${entry(n).id}\nevent: log\ndata: ${JSON.stringify(entry(n))}\n\n`);
    if (connections.length === 1) {
      res.write(': hello\n\n');
      for (const n of [1, 2, 3]) send(n);
      // Drop the connection mid-stream (half an event written), as a dying proxy would.
      res.write('id: 1004-0\nevent: log\ndata: {"id":');
      setTimeout(() => res.socket?.destroy(), 50);
    } else {
      const after = Number((lastEventId ?? '0-0').split('-')[0]) - 1000;
      for (let n = after + 1; n <= 5; n++) send(n);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const child = spawn(process.execPath, [CLI, 'logs', 'shop', '-n', '7'], {
    env: { ...process.env, PAAS_API: `http://127.0.0.1:${port}`, PAAS_TOKEN: 't0k', PAAS_CONFIG: '/nonexistent/paas.json', NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Until line 5 or an early exit; the assertions below say what was missing.
  await pollUntil('line 5', () => stdout.includes('line 5') || child.exitCode !== null, { timeoutMs: 15_000, intervalMs: 50 }).catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  const code = await exited;
  server.close();
  assert.deepEqual(
    stdout.trim().split('\n'),
    [1, 2, 3, 4, 5].map((n) => `${entry(n).timestamp} [APP/PROC/WEB/0] ${entry(n).stream} line ${n}`),
    `stdout: ${stdout}\nstderr: ${stderr}`,
  );
  assert.equal(connections[0].recent, '7', 'the first connection asks for the last -n lines');
  assert.equal(connections[0].lastEventId, undefined);
  assert.equal(connections[1].lastEventId, '1003-0', 'the reconnect resumes after the last entry printed');
  assert.equal(connections[1].recent, null, 'a resumed stream does not ask for recent lines again');
  assert.match(stderr, /resuming after 1003-0/);
  assert.equal(code, 0, 'Ctrl-C ends a follow successfully');
});
