/**
 * App logs as a user meets them, on a whole isolated platform: a Procfile app that logs each
 * request is pushed with git and reached through the router; its log then holds the staging
 * output (STG/0), the cell's lifecycle lines (CELL/0), the API changes (API/0), the app's own
 * stdout and stderr (APP/PROC/WEB/0 OUT/ERR) and the router's access line (RTR/0), in timestamp
 * order; the SSE stream delivers a new line live; deleting the app deletes its log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, writeFiles, type TestPlatform } from '@paas/test-platform';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

interface Entry {
  id: string;
  timestamp: string;
  source: string;
  stream: 'OUT' | 'ERR';
  text: string;
}

const SERVER_JS = `
const http = require('node:http');
http.createServer((req, res) => {
  if (req.url === '/warn') console.error('warning: ' + req.method + ' ' + req.url + ' looks odd');
  else console.log('handled ' + req.method + ' ' + req.url);
  res.end('logged ' + req.url + '\\n');
}).listen(Number(process.env.PORT), () => console.log('logger listening on ' + process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

/** Reads a text/event-stream response into events and comments until aborted. */
function readSse(body: ReadableStream<Uint8Array>) {
  const events: Array<{ id?: string; event?: string; data?: string; comment?: string }> = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let raw = '';
    try {
      for await (const chunk of body) {
        raw += decoder.decode(chunk, { stream: true });
        for (let end = raw.indexOf('\n\n'); end >= 0; end = raw.indexOf('\n\n')) {
          const event: (typeof events)[number] = {};
          for (const line of raw.slice(0, end).split('\n')) {
            if (line.startsWith(':')) event.comment = line.slice(1).trim();
            else event[line.slice(0, line.indexOf(':')) as 'id' | 'event' | 'data'] = line.slice(line.indexOf(':') + 2);
          }
          events.push(event);
          raw = raw.slice(end + 2);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, done };
}

describe('app logs', () => {
  let platform: TestPlatform;
  let work: string;
  const remote = (name: string) => `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`;
  const host = `logger.apps.localhost`;
  const recent = async (): Promise<Entry[]> => {
    const r = await api(platform, 'GET', '/v1/apps/logger/logs?recent=true&limit=1000');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.resources as Entry[];
  };
  const show = (entries: Entry[]) => entries.map((e) => `${e.timestamp} [${e.source}] ${e.stream} ${e.text}`).join('\n');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-logs-'));
    platform = await startIsolatedPlatform(1);
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves no bridge, veth, netns or iptables rule behind');
  });

  test("a pushed app's log holds staging, cell, API, its own output and the router's access line, in timestamp order", async () => {
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'logger' })).status, 201);
    const dir = join(work, 'logger');
    await writeFiles(dir, { Procfile: 'web: node server.js\n', 'server.js': SERVER_JS });
    await commitDir(dir);
    const pushed = await git(['push', remote('logger'), 'main'], dir);
    assert.equal(pushed.code, 0, pushed.output);

    const answer = await pollUntil('the app through the router', async () => {
      const r = await viaRouter(platform, host, '/hello-logs');
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(answer.text, 'logged /hello-logs\n');
    assert.equal((await viaRouter(platform, host, '/warn')).status, 200);

    const entries = await pollUntil('the request lines in the log', async () => {
      const list = await recent();
      const app = list.some((e) => e.source === 'APP/PROC/WEB/0' && e.text === 'handled GET /hello-logs');
      const rtr = list.some((e) => e.source === 'RTR/0' && e.text.includes('"GET /hello-logs HTTP/1.1" 200'));
      const err = list.some((e) => e.source === 'APP/PROC/WEB/0' && e.stream === 'ERR');
      return app && rtr && err ? list : undefined;
    }, { timeoutMs: 15_000 });

    const find = (what: string, pred: (e: Entry) => boolean): number => {
      const i = entries.findIndex(pred);
      assert.ok(i >= 0, `${what} is in the log:\n${show(entries)}`);
      return i;
    };
    const created = find('the API line of the creation', (e) => e.source === 'API/0' && e.text === 'Created app logger by admin');
    const staging = find('a staging line', (e) => e.source === 'STG/0' && e.stream === 'OUT' && /Procfile app detected/.test(e.text));
    const starting = find("the cell's start line", (e) => e.source === 'CELL/0' && /^Cell \S+ is starting instance 0 of web/.test(e.text));
    const listening = find("the app's boot line", (e) => e.source === 'APP/PROC/WEB/0' && e.stream === 'OUT' && /^logger listening on \d+$/.test(e.text));
    const healthy = find("the cell's healthy line", (e) => e.source === 'CELL/0' && /^Instance 0 of web is healthy and running/.test(e.text));
    const pushedLine = find('the API line of the push', (e) => e.source === 'API/0' && /^Pushed commit [0-9a-f]{7}: release v1 by admin$/.test(e.text));
    const request = find("the app's request line", (e) => e.source === 'APP/PROC/WEB/0' && e.stream === 'OUT' && e.text === 'handled GET /hello-logs');
    const access = find("the router's access line", (e) => e.source === 'RTR/0' && e.stream === 'OUT' && e.text.includes('"GET /hello-logs HTTP/1.1" 200'));
    const warning = find("the app's stderr line", (e) => e.source === 'APP/PROC/WEB/0' && e.stream === 'ERR' && e.text === 'warning: GET /warn looks odd');
    // Orders that hold whatever the shipping delays (a writer keeps its own order; seconds between the steps).
    assert.ok(created < staging && staging < starting && starting < listening && starting < healthy, show(entries));
    assert.ok(healthy < request && request < warning && starting < pushedLine, show(entries));
    assert.match(entries[access]!.text, /^logger\.apps\.localhost(:\d+)? - \[/);
    assert.match(entries[access]!.text, /app_index:"0"/);
    for (let i = 1; i < entries.length; i++) {
      assert.ok(entries[i - 1]!.timestamp <= entries[i]!.timestamp, `timestamp order at ${i}:\n${show(entries)}`);
    }
  });

  test('the SSE stream delivers a new line live', async () => {
    const abort = new AbortController();
    const res = await fetch(`${platform.apiUrl}/v1/apps/logger/logs/stream`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const sse = readSse(res.body!);
    try {
      await pollUntil('the stream to be ready', async () => sse.events.some((e) => e.comment?.startsWith('streaming the log of logger')), { timeoutMs: 10_000 });
      assert.equal((await viaRouter(platform, host, '/live-line')).status, 200);
      const live = await pollUntil('the live line on the stream', async () => {
        const found = sse.events.find((e) => e.event === 'log' && (JSON.parse(e.data!) as Entry).text === 'handled GET /live-line');
        return found;
      }, { timeoutMs: 10_000 });
      const entry = JSON.parse(live.data!) as Entry;
      assert.equal(live.id, entry.id);
      assert.equal(entry.source, 'APP/PROC/WEB/0');
      assert.ok(
        sse.events.every((e) => e.event !== 'log' || (JSON.parse(e.data!) as Entry).text !== 'handled GET /hello-logs'),
        'a stream without an id starts with new lines only',
      );
    } finally {
      abort.abort();
      await sse.done;
    }
  });

  test('deleting the app deletes its log', async () => {
    assert.equal((await api(platform, 'DELETE', '/v1/apps/logger')).status, 204);
    const gone = await api(platform, 'GET', '/v1/apps/logger/logs');
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'not-found');
  });
});
