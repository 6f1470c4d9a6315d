import { normalizeHost, routeChangeSchema, routeEndpointSchema, type RedisKeys, type RouteEndpoint } from '@paas/contracts';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RouteTable } from './route-table';

export interface RouteSyncOptions {
  redisUrl: string;
  keys: RedisKeys;
  table: RouteTable;
  logger: Logger;
  resyncIntervalMs: number;
}

/** Hosts read per pipeline during a full sync, so a huge table never becomes one huge reply. */
const SYNC_CHUNK = 500;

/**
 * Keeps a RouteTable in step with the route table in Redis: a full snapshot on every (re)connect
 * and every `resyncIntervalMs`, plus a reload of one host per message on the change channel.
 * While Redis is unreachable the table is left as it was (the router keeps serving it); ioredis
 * reconnects by itself and the 'ready' of either connection triggers a full resync.
 *
 * Ordering: every read is stamped with a sequence number when it is sent; one connection answers
 * in order, and a host is only overwritten by a read sent after the one it came from, so a slow
 * full sync never undoes a newer single-host reload. Call `start` once, then `stop` once.
 */
export class RouteSync {
  private readonly command: Redis;
  private readonly subscriber: Redis;
  private readonly log: Logger;
  private seq = 0;
  /** Sequence number of the read each host's current entry came from. */
  private readonly hostSeq = new Map<string, number>();
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private connectionLost = false;
  private resolveFirstSync: () => void = () => undefined;
  private readonly firstSync = new Promise<void>((resolve) => (this.resolveFirstSync = resolve));
  private lastSyncAt: number | undefined;

  constructor(private readonly options: RouteSyncOptions) {
    this.log = options.logger.child({ module: 'route-sync' });
    const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000);
    // Commands fail at once while disconnected (no offline queue): the table simply stays as it is.
    this.command = new Redis(options.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
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

  private async fullSync(): Promise<void> {
    if (this.command.status !== 'ready') return;
    const { keys, table } = this.options;
    const started = Date.now();
    try {
      const snapshotSeq = ++this.seq;
      const members = new Set((await this.command.smembers(keys.routeHosts)).map(normalizeHost));
      const hosts = [...members];
      for (let i = 0; i < hosts.length; i += SYNC_CHUNK) {
        const chunk = hosts.slice(i, i + SYNC_CHUNK);
        const chunkSeq = ++this.seq;
        const pipeline = this.command.pipeline();
        for (const host of chunk) pipeline.hgetall(keys.routeEndpoints(host));
        const replies = (await pipeline.exec()) ?? [];
        chunk.forEach((host, j) => {
          const [err, hash] = replies[j] ?? [new Error('no reply')];
          if (err) throw err;
          this.apply(host, chunkSeq, this.parseEndpoints(host, hash as Record<string, string>));
        });
      }
      // Hosts gone from the set are forgotten, unless a change message reloaded them meanwhile.
      for (const host of table.hostNames()) {
        if (!members.has(host) && (this.hostSeq.get(host) ?? 0) < snapshotSeq) {
          table.removeHost(host);
          this.hostSeq.delete(host);
        }
      }
      this.lastSyncAt = Date.now();
      this.resolveFirstSync();
      this.log.debug({ event: 'route-table-synced', hosts: table.size, durationMs: Date.now() - started }, 'route table synced');
    } catch (err) {
      this.log.warn({ event: 'route-sync-failed', err }, 'full route sync failed: serving the last known table');
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
    void this.reloadHost(normalizeHost(change.data.host));
  }

  private async reloadHost(host: string): Promise<void> {
    const { keys } = this.options;
    const seq = ++this.seq;
    try {
      const replies = (await this.command.pipeline().sismember(keys.routeHosts, host).hgetall(keys.routeEndpoints(host)).exec()) ?? [];
      const [memberErr, isMember] = replies[0] ?? [new Error('no reply')];
      const [hashErr, hash] = replies[1] ?? [new Error('no reply')];
      if (memberErr || hashErr) throw memberErr ?? hashErr;
      const endpoints = this.parseEndpoints(host, hash as Record<string, string>);
      if (endpoints.length === 0 && isMember !== 1) {
        // A host nobody registers any more: 404 again rather than 503.
        if ((this.hostSeq.get(host) ?? 0) <= seq) {
          this.options.table.removeHost(host);
          this.hostSeq.set(host, seq);
        }
      } else {
        this.apply(host, seq, endpoints);
      }
      this.log.debug({ event: 'route-host-reloaded', host, endpoints: endpoints.length }, 'route reloaded');
    } catch (err) {
      // The next full sync (on reconnect or on the timer) catches up.
      this.log.warn({ event: 'route-reload-failed', host, err }, 'could not reload a route: serving the last known endpoints');
    }
  }

  private apply(host: string, seq: number, endpoints: RouteEndpoint[]): void {
    if ((this.hostSeq.get(host) ?? 0) > seq) return;
    this.hostSeq.set(host, seq);
    this.options.table.replaceHost(host, endpoints);
  }

  /** Validates each entry of a host's hash; invalid ones are logged and skipped, never fatal. */
  private parseEndpoints(host: string, hash: Record<string, string> | null): RouteEndpoint[] {
    const endpoints: RouteEndpoint[] = [];
    for (const [instanceId, raw] of Object.entries(hash ?? {})) {
      let parsed;
      try {
        parsed = routeEndpointSchema.safeParse(JSON.parse(raw));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) endpoints.push(parsed.data);
      else this.log.warn({ event: 'route-endpoint-invalid', host, instanceId }, 'skipping an invalid route endpoint');
    }
    return endpoints;
  }

  private onConnectionError(connection: string, err: Error): void {
    if (this.stopped || this.connectionLost) return;
    this.connectionLost = true;
    this.log.warn(
      { event: 'redis-connection-lost', connection, err: err.message },
      'lost redis: serving the last known route table until it comes back',
    );
  }
}
