/**
 * The logs API against a real Postgres and Redis (controller harness), with the real cell agent
 * on the fake runtime (testing/cell-agent.ts) for pushes: staging (STG/0), API changes (API/0) and the release command (APP/TASK/RELEASE/0) in
 * the app's stream; lines written as a cell writes them (APP/PROC/WEB/0); recent reads in order;
 * the SSE stream: framing, resume after an id (query and Last-Event-ID) with no gap or repeat,
 * recent=N, live lines; access rules; the stream deleted with its app.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { compareStreamIds, logEntrySchema, redisKeys, type LogEntry, type RedisKeys } from '@paas/contracts';
import { AppLogWriter, createRedisConnection } from '@paas/redis';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { pushThroughHook } from '../testing/push';
import { MINIMAL_SOURCE, tarOf } from '../testing/source-tar';
import { createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';
import { LogsService } from './logs.service';
import { pollUntil as until } from '@paas/local-services';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A raw SSE client over fetch: keeps every event and comment it reads, until `close`. */
async function openStream(url: string, token: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  let raw = '';
  const reading = (async () => {
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        raw += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = raw.indexOf('\n\n');
        while (end >= 0) {
          const block = raw.slice(0, end);
          raw = raw.slice(end + 2);
          const event: SseEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) event.comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(':');
              const field = line.slice(0, colon) as 'id' | 'event' | 'data';
              event[field] = line.slice(colon + 2);
            }
          }
          events.push(event);
          end = raw.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    res,
    events,
    entries: (): LogEntry[] => events.filter((e) => e.event === 'log').map((e) => logEntrySchema.parse(JSON.parse(e.data!))),
    /** Resolves once the server said where it stands (after its recent lines, before any live one). */
    ready: () => until('the stream to be ready', async () => events.some((e) => e.comment?.startsWith('streaming the log of'))),
    close: async () => {
      abort.abort();
      await reading;
    },
  };
}

describe('app logs API', () => {
  let h: ControllerHarness;
  let cells: CellAgentProcess[] = [];
  let redis: Redis;
  let keys: RedisKeys;
  let cellWriter: AppLogWriter;
  let admin: { userId: string; name: string; isAdmin: boolean };
  let outsider: TestUser;
  let viewer: TestUser;
  let spaceId: string;

  const logs = async (app: string, query = '', token?: string) => h.call('GET', `/v1/apps/${app}/logs${query}`, undefined, token);
  const appId = async (name: string) => expectStatus(await h.call('GET', `/v1/apps/${name}`), 200).body.id as string;
  /** Writes lines as a cell does (its own writer and connection). */
  const cellSays = async (id: string, lines: string[], source = 'APP/PROC/WEB/0') => {
    for (const text of lines) cellWriter.write(id, { source, stream: 'OUT', text }, { limited: true });
    assert.equal(await cellWriter.flush(), true);
  };

  before(async () => {
    h = await startControllerHarness();
    redis = createRedisConnection(h.redisUrl, 'logs-test');
    keys = redisKeys(h.redisPrefix);
    cellWriter = new AppLogWriter(redis, keys, {
      settings: { maxLines: 5000, ttlSeconds: 600 },
      rateLimit: { ratePerSecond: 10_000, burst: 10_000 },
      markerSource: 'CELL/0',
      markerWhere: 'cell test',
    });
    cells = [await startCellAgent(h, 'logs-a')];
    admin = await adminActor(h);
    const org = await createOrg(h, 'logs-org');
    spaceId = await createSpace(h, org, 'logs-space');
    outsider = await createUser(h, 'logs-outsider');
    viewer = await createUser(h, 'logs-viewer');
    await grant(h, spaceId, viewer, 'viewer');
  });

  after(async () => {
    await cellWriter?.close(1000);
    redis?.disconnect();
    for (const cell of cells) await cell.stop();
    await h?.stop();
  });

  it('a push leaves its staging lines (STG/0), the API changes (API/0) and the release command (APP/TASK/RELEASE/0) in the app log, in order', async () => {
    // The release command from the Procfile; the fake runtime's task prints its echo (apps/cell/src/fake-behaviours.ts).
    const source = await tarOf({ ...MINIMAL_SOURCE, Procfile: 'web: node server.js\nrelease: echo migrating the db; exit 0\n' });
    expectStatus(await h.call('POST', '/v1/apps', { name: 'logged', space_id: spaceId }), 201);
    const pushed = await pushThroughHook(h.url, h.internalToken, 'logged', admin, source);
    assert.ok(pushed.ok, pushed.text);
    const entries = await until('the push lines', async () => {
      const res = await logs('logged', '?recent=true&limit=1000');
      const list = res.body.resources as LogEntry[];
      return list.some((e) => e.text.startsWith('Pushed commit')) ? list : undefined;
    });
    for (const entry of entries) assert.ok(logEntrySchema.safeParse(entry).success, JSON.stringify(entry));
    for (let i = 1; i < entries.length; i++) {
      assert.ok(compareStreamIds(entries[i - 1]!.id, entries[i]!.id) < 0, 'ordered by id');
      assert.ok(entries[i - 1]!.timestamp <= entries[i]!.timestamp, 'timestamps follow the order');
    }
    const index = (pred: (e: LogEntry) => boolean, what: string) => {
      const i = entries.findIndex(pred);
      assert.ok(i >= 0, `${what} in ${JSON.stringify(entries.map((e) => `[${e.source}] ${e.text}`), null, 1)}`);
      return i;
    };
    const created = index((e) => e.source === 'API/0' && e.text === 'Created app logged by admin', 'the creation');
    const staging = index((e) => e.source === 'STG/0' && /^-----> Staging logged \(0123456\) on cell logs-a$/.test(e.text), 'the staging line');
    const buildpack = index((e) => e.source === 'STG/0' && e.text === '-----> nodejs (fake buildpack: the fake runtime runs no build)', "the cell's staging output");
    const release = index((e) => e.source === 'APP/TASK/RELEASE/0' && e.text === 'migrating the db', 'the release command output');
    const pushedLine = index((e) => e.source === 'API/0' && e.text === 'Pushed commit 0123456: release v1 by admin', 'the push event');
    assert.ok(created < staging && staging < buildpack && buildpack < release && release < pushedLine, 'in the order they happened');
    assert.ok(!entries.some((e) => e.source === 'STG/0' && e.text.includes('Release v1')), 'the deploy is no staging');
    assert.ok(entries.some((e) => e.source === 'API/0' && e.text === 'Deployment of release v1 succeeded by admin'));
  });

  it('recent answers the last N lines, oldest first; since pages forward; bad parameters are 400s', async () => {
    const id = await appId('logged');
    await cellSays(id, Array.from({ length: 30 }, (_, i) => `request ${i}`));
    const last5 = expectStatus(await logs('logged', '?limit=5'), 200).body.resources as LogEntry[];
    assert.deepEqual(last5.map((e) => e.text), ['request 25', 'request 26', 'request 27', 'request 28', 'request 29']);
    assert.deepEqual(last5.map((e) => [e.source, e.stream]), Array(5).fill(['APP/PROC/WEB/0', 'OUT']));
    const after = expectStatus(await logs('logged', `?since=${last5[1]!.id}&limit=2`), 200).body.resources as LogEntry[];
    assert.deepEqual(after.map((e) => e.text), ['request 27', 'request 28']);
    const byDefault = expectStatus(await logs(id), 200).body.resources as LogEntry[];
    assert.ok(byDefault.length <= 100 && byDefault.at(-1)!.text === 'request 29', 'by id too; 100 at most by default');
    const bad = await logs('logged', '?limit=5000');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation-failed');
    assert.match(bad.body.error.message, /limit: must be a whole number from 1 to 1000/);
    assert.equal((await logs('logged', '?since=last-tuesday')).status, 400);
  });

  it('needs read access: viewers read, others and unknown apps get a JSON 404', async () => {
    expectStatus(await logs('logged', '', viewer.token), 200);
    const hidden = await logs('logged', '', outsider.token);
    assert.equal(hidden.status, 404);
    assert.match(hidden.body.error.message, /no app logged/);
    const unknown = await logs('no-such-app');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not-found');
    const stream = await fetch(`${h.url}/v1/apps/no-such-app/logs/stream`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    assert.equal(stream.status, 404);
    assert.match(stream.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await stream.json()) as { error: { code: string } }).error.code, 'not-found');
    const anonymous = await fetch(`${h.url}/v1/apps/logged/logs/stream`);
    assert.equal(anonymous.status, 401);
    const badId = await fetch(`${h.url}/v1/apps/logged/logs/stream`, { headers: { authorization: `Bearer ${h.adminToken}`, 'last-event-id': 'x' } });
    assert.equal(badId.status, 400);
  });

  it('the SSE stream sends new lines live, and resumes after an id (since, then Last-Event-ID) without gaps or repeats', async () => {
    const id = await appId('logged');
    const service = h.app.get(LogsService);
    await cellSays(id, Array.from({ length: 10 }, (_, i) => `before ${i}`));
    const before = expectStatus(await logs('logged', '?limit=10'), 200).body.resources as LogEntry[];

    // Resume after "before 4": the 5 after it come first, then live lines.
    const first = await openStream(`${h.url}/v1/apps/logged/logs/stream?since=${before[4]!.id}`, h.adminToken);
    assert.equal(first.res.status, 200);
    assert.match(first.res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(first.res.headers.get('cache-control'), 'no-cache, no-transform');
    await first.ready();
    await cellSays(id, ['live 0', 'live 1', 'live 2']);
    await until('the live lines', async () => first.entries().some((e) => e.text === 'live 2'));
    const framed = first.events.find((e) => e.event === 'log')!;
    assert.equal(framed.id, JSON.parse(framed.data!).id, 'the event id is the entry id');
    const seenFirst = first.entries();
    await first.close();
    await until('the server to drop the closed stream', async () => service.streamCount === 0);

    // Lines written while no client listens; then a reconnect with Last-Event-ID (as EventSource does) picks up after the last seen.
    await cellSays(id, ['offline 0', 'offline 1']);
    const second = await openStream(`${h.url}/v1/apps/logged/logs/stream?since=${before[0]!.id}`, h.adminToken, { 'last-event-id': seenFirst.at(-1)!.id });
    await second.ready();
    await cellSays(id, ['live 3']);
    await until('live 3', async () => second.entries().some((e) => e.text === 'live 3'));
    const seenSecond = second.entries();
    await second.close();

    const texts = [...seenFirst, ...seenSecond].map((e) => e.text);
    assert.deepEqual(texts, ['before 5', 'before 6', 'before 7', 'before 8', 'before 9', 'live 0', 'live 1', 'live 2', 'offline 0', 'offline 1', 'live 3']);
    const ids = [...seenFirst, ...seenSecond].map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no repeats');
  });

  it('without an id the stream starts at the end, after ?recent=N lines', async () => {
    const id = await appId('logged');
    await cellSays(id, ['old 0', 'old 1', 'old 2']);
    const tail = await openStream(`${h.url}/v1/apps/logged/logs/stream?recent=2`, h.adminToken);
    await tail.ready();
    const onlyNew = await openStream(`${h.url}/v1/apps/logged/logs/stream`, h.adminToken);
    await onlyNew.ready();
    await cellSays(id, ['new 0']);
    await until('new 0 on both', async () => tail.entries().some((e) => e.text === 'new 0') && onlyNew.entries().some((e) => e.text === 'new 0'));
    assert.deepEqual(tail.entries().map((e) => e.text), ['old 1', 'old 2', 'new 0']);
    assert.deepEqual(onlyNew.entries().map((e) => e.text), ['new 0']);
    await tail.close();
    await onlyNew.close();
  });

  it('an app change is an API/0 line at once; deleting the app deletes its log', async () => {
    expectStatus(await h.call('POST', '/v1/apps', { name: 'doomed', space_id: spaceId, no_route: true }), 201);
    const id = await appId('doomed');
    expectStatus(await h.call('PATCH', '/v1/apps/doomed/env', { var: { FEATURE: 'on', TOKEN: 'hunter2' } }), 202);
    const entries = await until('the env line', async () => {
      const list = (await logs('doomed')).body.resources as LogEntry[];
      return list.some((e) => e.text.startsWith('Updated environment variables')) ? list : undefined;
    });
    const line = entries.find((e) => e.text.startsWith('Updated environment variables'))!;
    assert.equal(line.text, 'Updated environment variables FEATURE, TOKEN by admin');
    assert.doesNotMatch(JSON.stringify(entries), /hunter2/, 'values never reach the log');
    assert.equal(await redis.exists(keys.appLogs(id)), 1);
    expectStatus(await h.call('DELETE', '/v1/apps/doomed'), 204);
    assert.equal(await redis.exists(keys.appLogs(id)), 0, 'the stream is gone with the app');
    assert.equal((await logs(id)).status, 404);
  });
});
