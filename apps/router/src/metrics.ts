import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the route-table gauges read when scraped. */
export interface TableStatsSource {
  stats(): { hosts: number; routes: number; endpoints: number };
  /** Epoch ms of the last successful full sync; undefined before the first. */
  lastSyncAt(): number | undefined;
  /** Certificates held for the TLS listener; undefined without one. */
  certificates?(): number | undefined;
}

/** What the app-limiter gauges read when scraped. */
export interface LimiterStatsSource {
  inFlight(): number;
  queued(): number;
  cutTargets(): number;
}

/** `2xx`…`5xx`; `0xx` for a request that got no status (client gone, WebSocket cut). */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : '0xx';
}

/**
 * The router's Prometheus metrics, in a registry of its own (several routers may share a process
 * in tests). Each router process answers its own admin port; summed over the processes of a host,
 * `paas_router_workers` counts them.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'paas_router_requests_total',
    help: 'Requests and WebSocket upgrades answered, by app id ("" when the router answered itself before picking an app) and status class',
    labelNames: ['app_id', 'status_class'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'paas_router_request_duration_seconds',
    help: 'Time from a request arriving to its response ending (WebSockets excluded)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly routerErrors = new Counter({
    name: 'paas_router_router_errors_total',
    help: 'Responses the router made itself, by the code in x-paas-router-error',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly backendErrors = new Counter({
    name: 'paas_router_backend_errors_total',
    help: 'Failed attempts to a backend (connect refused or timed out, reset, timeout, failure mid-response), by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'paas_router_retries_total',
    help: 'Requests sent to another instance after an attempt that no byte of the request reached',
    registers: [this.registry],
  });

  private readonly appRefusals = new Counter({
    name: 'paas_router_app_overload_refusals_total',
    help: 'Requests answered 503 app-overloaded, by route target (app id) and reason (queue-full on arrival, queue-timeout after waiting)',
    labelNames: ['app_id', 'reason'] as const,
    registers: [this.registry],
  });

  private readonly tlsHandshakeFailures = new Counter({
    name: 'paas_router_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by reason: no-certificate (no SNI, or no unexpired certificate covers the name) or error (protocol version, ciphers, reset...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(table: TableStatsSource, limiter?: LimiterStatsSource) {
    const registers = [this.registry];
    if (table.certificates) {
      const certificates = table.certificates.bind(table);
      new Gauge({
        name: 'paas_router_certificates',
        help: 'Certificates the TLS listener holds (read from Redis, key opened); absent without a TLS listener',
        registers,
        aggregator: 'max',
        collect() {
          const n = certificates();
          if (n !== undefined) this.set(n);
        },
      });
    }
    if (limiter) {
      new Gauge({
        name: 'paas_router_app_in_flight_requests',
        help: 'Requests holding a slot of the per-app limiter (proxied right now), all apps',
        registers,
        collect() {
          this.set(limiter.inFlight());
        },
      });
      new Gauge({
        name: 'paas_router_app_bounds_cut',
        help: 'Route targets (apps) whose in-flight bound is cut below ROUTER_APP_MAX_IN_FLIGHT because the event loop lagged',
        registers,
        collect() {
          this.set(limiter.cutTargets());
        },
      });
      new Gauge({
        name: 'paas_router_app_queued_requests',
        help: 'Requests waiting for a slot of the per-app limiter, all apps',
        registers,
        collect() {
          this.set(limiter.queued());
        },
      });
    }
    new Gauge({
      name: 'paas_router_workers',
      help: 'Router processes reporting (1 per process: the sum over the scrapes counts them)',
      registers,
      collect() {
        this.set(1);
      },
    });
    const size = (name: string, help: string, key: 'hosts' | 'routes' | 'endpoints') =>
      new Gauge({
        name,
        help,
        registers,
        aggregator: 'max',
        collect() {
          this.set(table.stats()[key]);
        },
      });
    size('paas_router_route_table_hosts', 'Hosts with routes in the route table', 'hosts');
    size('paas_router_route_table_routes', 'Routes (host + path) in the route table', 'routes');
    size('paas_router_route_table_endpoints', 'Instance endpoints in the route table (expired ones included until the next reload)', 'endpoints');
    new Gauge({
      name: 'paas_router_route_table_loaded',
      help: '1 once the route table has been read in full from Redis (min over workers)',
      registers,
      aggregator: 'min',
      collect() {
        this.set(table.lastSyncAt() === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: 'paas_router_route_table_age_seconds',
      help: 'Seconds since the route table was last read in full from Redis (-1 before the first read)',
      registers,
      aggregator: 'max',
      collect() {
        const at = table.lastSyncAt();
        this.set(at === undefined ? -1 : (Date.now() - at) / 1000);
      },
    });
  }

  /** One request (or WebSocket) is over. */
  requestDone(appId: string | undefined, status: number, durationSeconds: number | undefined, routerError: string | undefined): void {
    this.requests.inc({ app_id: appId ?? '', status_class: statusClass(status) });
    if (durationSeconds !== undefined) this.duration.observe(durationSeconds);
    if (routerError) this.routerErrors.inc({ code: routerError });
  }

  backendError(code: string | undefined): void {
    this.backendErrors.inc({ code: code ?? 'unknown' });
  }

  appRefused(appId: string, reason: string): void {
    this.appRefusals.inc({ app_id: appId, reason });
  }

  tlsHandshakeFailed(reason: 'no-certificate' | 'error'): void {
    this.tlsHandshakeFailures.inc({ reason });
  }

  retry(): void {
    this.retries.inc();
  }
}
