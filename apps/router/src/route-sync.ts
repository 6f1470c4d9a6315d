import {
  endpointSchema,
  endpointSetKey,
  normalizeHost,
  ROUTE_REFRESH_INTERVAL_MS,
  routeChangeSchema,
  routeEntrySchema,
  type Endpoint,
  type RedisKeys,
  type RouteEntry,
} from '@paas/contracts';
import { Redis, type ChainableCommander } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { RouteTable } from './route-table';
import { SideTableLoads, type SideTable } from './side-tables';

export type { SideTable };

export interface RouteSyncOptions {
  redisUrl: string;
  keys: RedisKeys;
  table: RouteTable;
  logger: Logger;
  resyncIntervalMs: number;
  /** Tables read in full beside the routes: at every full sync, and on each change message of their kind. */
  sideTables?: readonly SideTable[];
}

/** How often the router checks that Redis answers (a paused Redis keeps its connections open). */
const PING_INTERVAL_MS = 2_000;
/** How long a command of the router may wait for Redis's answer before Redis counts as out of reach. */
const COMMAND_TIMEOUT_MS = 5_000;
/** After an outage, how long endpoints that were live when it began still count: cells refresh within it. */
const SILENCE_GRACE_MS = ROUTE_REFRESH_INTERVAL_MS + 5_000;

/** Hashes read per pipeline during a full sync, so a huge table never becomes one huge reply. */
const SYNC_CHUNK = 500;

/** Ordering-guard keys of the two kinds of table entries. */
const hostSeqKey = (host: string) => `host:${host}`;
const endpointsSeqKey = (setKey: string) => `endpoints:${setKey}`;

/** Inverse of endpointSetKey: `${appId}/${processType}` (a process type has no '/'). */
function parseEndpointSetKey(key: string): { appId: string; processType: string } | undefined {
  const slash = key.lastIndexOf('/');
  if (slash <= 0 || slash === key.length - 1) return undefined;
  return { appId: key.slice(0, slash), processType: key.slice(slash + 1) };
}

/** Parses and validates one hash value; undefined when it is not valid JSON or not valid. */
function parseJson<T>(raw: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps a RouteTable in step with the two-level route table in Redis (hosts' routes written by
 * the controller, endpoint sets written by cells): a full snapshot on every (re)connect and every
 * `resyncIntervalMs`, plus a reload of one host's routes or one endpoint set per message on the
 * change channel. While Redis is unreachable the table is left as it was (the router keeps
 * serving it); ioredis reconnects by itself and the 'ready' of either connection triggers a full
 * resync. A snapshot without the controller's projection mark (Redis restarted empty) drops no
 * host, and an endpoint set missing from a snapshot is dropped only once its endpoints expired:
 * the router keeps routing while the controller and the cells write the table again. While Redis
 * is out of reach (a connection error, a PING or a sync that fails or times out, Redis paused)
 * the table's endpoints do not expire (RouteTable.beginSilence); a full sync after it ends that.
 *
 * Ordering: every read is stamped with a sequence number when it is sent; one connection answers
 * in order, and an entry (a host, an endpoint set) is only overwritten by a read sent after the
 * one it came from, so a slow full sync never undoes a newer per-key reload. Call `start` once,
 * then `stop` once.
 */
export class RouteSync {
  private readonly command: Redis;
  private readonly subscriber: Redis;
  private readonly log: Logger;
  private seq = 0;
  /** Sequence number of the read each table entry (hostSeqKey / endpointsSeqKey) came from. */
  private readonly keySeq = new Map<string, number>();
  /** Change-message reloads in flight, per table entry. */
  private readonly reloads = new Map<string, { again: boolean }>();
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private pinging = false;
  private stopped = false;
  private connectionLost = false;
  /** The last full sync found no projection mark (Redis lost its data). */
  private incomplete = false;
  private resolveFirstSync: () => void = () => undefined;
  private readonly firstSync = new Promise<void>((resolve) => (this.resolveFirstSync = resolve));
  private lastSyncAt: number | undefined;
  private readonly sides = new SideTableLoads();

  constructor(private readonly options: RouteSyncOptions) {
    this.log = options.logger.child({ module: 'route-sync' });
    const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000);
    // Commands fail at once while disconnected (no offline queue): the table simply stays as it is.
    this.command = new Redis(options.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy,
      connectionName: 'paas-router',
    });
    // The subscriber queues its SUBSCRIBE until connected and re-subscribes after every reconnect.
    this.subscriber = new Redis(options.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy,
      connectionName: 'paas-router-sub',
    });
  }

  /** Epoch ms of the last successful full read; undefined before the first. */
  get lastSyncedAt(): number | undefined {
    return this.lastSyncAt;
  }

  /** True once the whole table has been read at least once. */
  get hasSynced(): boolean {
    return this.lastSyncAt !== undefined;
  }

  /**
   * Connects, subscribes and loads the table. Resolves after the first full sync, or after
   * `waitMs` if Redis does not answer by then (the sync then happens whenever Redis comes up).
   */
  async start(waitMs: number): Promise<void> {
    for (const [name, client] of [
      ['command', this.command],
      ['subscriber', this.subscriber],
    ] as const) {
      client.on('error', (err: Error) => this.onConnectionError(name, err));
      client.on('ready', () => {
        if (this.connectionLost) this.log.info({ event: 'redis-connection-restored', connection: name }, 'redis is back');
        this.connectionLost = false;
        void this.requestFullSync();
      });
    }
    this.subscriber.on('message', (channel: string, message: string) => this.onChange(channel, message));
    this.subscriber.subscribe(this.options.keys.routeChanges).catch((err: Error) => {
      this.log.error({ event: 'route-subscribe-failed', err }, 'could not subscribe to the route change channel');
    });
    // connect() rejects when the first attempt fails, but ioredis keeps retrying in the background.
    this.command.connect().catch(() => undefined);
    this.subscriber.connect().catch(() => undefined);
    this.timer = setInterval(() => void this.requestFullSync(), this.options.resyncIntervalMs);
    this.timer.unref();
    this.pinger = setInterval(() => void this.ping(), PING_INTERVAL_MS);
    this.pinger.unref();

    let timeout: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => (timeout = setTimeout(() => resolve('timeout'), waitMs)));
    const outcome = await Promise.race([this.firstSync.then(() => 'synced' as const), gaveUp]);
    clearTimeout(timeout);
    if (outcome === 'timeout') {
      this.log.warn(
        { event: 'route-table-not-loaded', waitMs },
        'redis did not answer in time: the router starts with an empty table and loads it as soon as redis is reachable',
      );
    }
  }

  /** Closes both connections at once; the table keeps its last content. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.pinger);
    this.command.disconnect();
    this.subscriber.disconnect();
    await this.syncing?.catch(() => undefined);
  }

  /** Runs a full sync now, or once more right after the one in progress. Never rejects. */
  requestFullSync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          await this.fullSync();
        } while (this.syncAgain && !this.stopped);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /**
   * Reads both levels of the table: the host and endpoint-set indexes in one round trip, then
   * every host's routes and every set's endpoints, SYNC_CHUNK keys per pipeline.
   */
  private async fullSync(): Promise<void> {
    if (this.command.status !== 'ready') return;
    const { keys, table } = this.options;
    const started = Date.now();
    try {
      const snapshotSeq = ++this.seq;
      const indexes = (await this.command.pipeline().smembers(keys.routeHosts).smembers(keys.endpointSets).exists(keys.routesProjected).exec()) ?? [];
      const [hostsErr, rawHosts] = indexes[0] ?? [new Error('no reply')];
      const [setsErr, rawSets] = indexes[1] ?? [new Error('no reply')];
      const [markErr, mark] = indexes[2] ?? [new Error('no reply')];
      if (hostsErr || setsErr || markErr) throw hostsErr ?? setsErr ?? markErr;
      // Without the controller's mark Redis lost its data and the controller is projecting the
      // routes again: what is missing from this snapshot is not gone, so no host is dropped.
      const complete = mark === 1;
      if (!complete && !this.incomplete) {
        this.log.warn({ event: 'route-table-incomplete' }, 'redis holds no complete route table (restarted empty?): keeping every known host until the controller projects them again');
      }
      this.incomplete = !complete;
      const hosts = rawHosts as string[];
      const sets = (rawSets as string[]).flatMap((key) => {
        const parsed = parseEndpointSetKey(key);
        if (!parsed) this.log.warn({ event: 'endpoint-set-key-invalid', key: key.slice(0, 200) }, 'skipping a malformed endpoint set key');
        return parsed ? [parsed] : [];
      });

      // Endpoints first, so a route present at the snapshot never shows up before its endpoints.
      await this.readChunked(sets, (pipeline, s) => pipeline.hgetall(keys.endpoints(s.appId, s.processType)), (s, seq, hash) =>
        this.applyEndpoints(s.appId, s.processType, seq, hash),
      );
      await this.readChunked(hosts, (pipeline, host) => pipeline.hgetall(keys.hostRoutes(host)), (host, seq, hash) => this.applyHost(host, seq, hash));
      for (const side of this.options.sideTables ?? []) await this.sides.load(side, this.command);

      // What is gone from the indexes is forgotten, unless a change message reloaded it meanwhile.
      const indexed = new Set([
        ...hosts.map((h) => hostSeqKey(normalizeHost(h))),
        ...sets.map((s) => endpointsSeqKey(endpointSetKey(s.appId, s.processType))),
      ]);
      const removable = (seqKey: string) => !indexed.has(seqKey) && this.seqOf(seqKey) < snapshotSeq;
      if (complete) for (const host of table.hostNames()) if (removable(hostSeqKey(host))) table.removeHost(host);
      // An endpoint set missing from the index goes once its endpoints expired: the cells may not
      // have re-registered yet after Redis lost its data, and a removal is announced anyway.
      for (const setKey of table.endpointSetKeys()) {
        if (removable(endpointsSeqKey(setKey)) && !table.hasLiveEndpoints(setKey)) table.removeEndpointSet(setKey);
      }
      // Sequence numbers of entries gone before this snapshot are no longer needed.
      const kept = new Set([...table.hostNames().map(hostSeqKey), ...table.endpointSetKeys().map(endpointsSeqKey)]);
      for (const [seqKey, seq] of this.keySeq) if (seq < snapshotSeq && !indexed.has(seqKey) && !kept.has(seqKey)) this.keySeq.delete(seqKey);
      this.lastSyncAt = Date.now();
      table.endSilence(SILENCE_GRACE_MS);
      this.resolveFirstSync();
      this.log.debug(
        { event: 'route-table-synced', hosts: table.size, endpointSets: sets.length, durationMs: Date.now() - started },
        'route table synced',
      );
    } catch (err) {
      table.beginSilence();
      this.log.warn({ event: 'route-sync-failed', err }, 'full route sync failed: serving the last known table');
    }
  }

  /** Sends one HGETALL per item, SYNC_CHUNK per pipeline, each chunk stamped when sent. */
  private async readChunked<T>(
    items: readonly T[],
    queue: (pipeline: ChainableCommander, item: T) => void,
    apply: (item: T, seq: number, hash: Record<string, string>) => void,
  ): Promise<void> {
    for (let i = 0; i < items.length; i += SYNC_CHUNK) {
      const chunk = items.slice(i, i + SYNC_CHUNK);
      const chunkSeq = ++this.seq;
      const pipeline = this.command.pipeline();
      for (const item of chunk) queue(pipeline, item);
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach((item, j) => {
        const [err, hash] = replies[j] ?? [new Error('no reply')];
        if (err) throw err;
        apply(item, chunkSeq, hash as Record<string, string>);
      });
    }
  }

  private onChange(channel: string, message: string): void {
    if (channel !== this.options.keys.routeChanges) return;
    let change;
    try {
      change = routeChangeSchema.safeParse(JSON.parse(message));
    } catch {
      change = undefined;
    }
    if (!change?.success) {
      this.log.warn({ event: 'route-change-invalid', message: message.slice(0, 200) }, 'ignoring a malformed route change message');
      return;
    }
    const { keys } = this.options;
    const data = change.data;
    if (data.kind === 'host') {
      this.reload(hostSeqKey(normalizeHost(data.host)), keys.hostRoutes(data.host), (seq, hash) => this.applyHost(data.host, seq, hash));
    } else if (data.kind === 'endpoints') {
      this.reload(endpointsSeqKey(endpointSetKey(data.appId, data.processType)), keys.endpoints(data.appId, data.processType), (seq, hash) =>
        this.applyEndpoints(data.appId, data.processType, seq, hash),
      );
    } else {
      this.sides.reloadKind(data.kind, this.options.sideTables ?? [], this.command, (side, err) => {
        if (!this.stopped) this.log.warn({ event: 'route-reload-failed', key: side.kind, err }, `could not reload the ${side.kind} table: serving the last known one`);
      });
    }
  }

  /**
   * Re-reads one hash after a change message. Messages for a key whose read is in flight are
   * coalesced into one more read after it (that read may have been sent before the change).
   */
  private reload(seqKey: string, redisKey: string, apply: (seq: number, hash: Record<string, string>) => void): void {
    const pending = this.reloads.get(seqKey);
    if (pending) {
      pending.again = true;
      return;
    }
    const state = { again: false };
    this.reloads.set(seqKey, state);
    void (async () => {
      try {
        for (let round = 0; round < 100 && !this.stopped; round++) {
          state.again = false;
          const seq = ++this.seq;
          const hash = await this.command.hgetall(redisKey);
          apply(seq, hash);
          this.log.debug({ event: 'route-key-reloaded', key: seqKey }, 'route table entry reloaded');
          if (!state.again) break;
        }
      } catch (err) {
        // The next full sync (on reconnect or on the timer) catches up.
        if (!this.stopped) this.log.warn({ event: 'route-reload-failed', key: seqKey, err }, 'could not reload a route table entry: serving the last known one');
      } finally {
        this.reloads.delete(seqKey);
        // Still changing after many rounds: start afresh rather than loop here forever.
        if (state.again && !this.stopped) setImmediate(() => this.reload(seqKey, redisKey, apply));
      }
    })();
  }

  /**
   * A paused Redis keeps its connections open: a PING that fails (or gets no answer) starts the
   * table's silence, and the first one answered after it resyncs (which ends the silence).
   */
  private async ping(): Promise<void> {
    if (this.pinging || this.stopped) return;
    this.pinging = true;
    try {
      await this.command.ping();
      if (this.options.table.silent) await this.requestFullSync();
    } catch {
      this.options.table.beginSilence();
    } finally {
      this.pinging = false;
    }
  }

  private seqOf(seqKey: string): number {
    return this.keySeq.get(seqKey) ?? 0;
  }

  /** Applies a read of `seqKey` unless a read sent later has been applied already. */
  private isCurrent(seqKey: string, seq: number): boolean {
    if (this.seqOf(seqKey) > seq) return false;
    this.keySeq.set(seqKey, seq);
    return true;
  }

  /** `host` as it names the Redis key; the table normalises it. */
  private applyHost(host: string, seq: number, hash: Record<string, string> | null): void {
    if (!this.isCurrent(hostSeqKey(normalizeHost(host)), seq)) return;
    const entries: RouteEntry[] = [];
    for (const [path, raw] of Object.entries(hash ?? {})) {
      const parsed = parseJson(raw, routeEntrySchema);
      if (parsed) entries.push(parsed);
      else this.log.warn({ event: 'route-entry-invalid', host, path }, 'skipping an invalid route entry');
    }
    this.options.table.replaceHost(host, entries);
  }

  private applyEndpoints(appId: string, processType: string, seq: number, hash: Record<string, string> | null): void {
    if (!this.isCurrent(endpointsSeqKey(endpointSetKey(appId, processType)), seq)) return;
    const endpoints: Endpoint[] = [];
    for (const [instanceId, raw] of Object.entries(hash ?? {})) {
      const parsed = parseJson(raw, endpointSchema);
      if (parsed && parsed.appId === appId && parsed.processType === processType) endpoints.push(parsed);
      else this.log.warn({ event: 'route-endpoint-invalid', appId, processType, instanceId }, 'skipping an invalid endpoint');
    }
    this.options.table.replaceEndpoints(appId, processType, endpoints);
  }

  private onConnectionError(connection: string, err: Error): void {
    if (this.stopped) return;
    this.options.table.beginSilence();
    if (this.connectionLost) return;
    this.connectionLost = true;
    this.log.warn(
      { event: 'redis-connection-lost', connection, err: err.message },
      'lost redis: serving the last known route table until it comes back',
    );
  }
}
