/**
 * Every Redis key and channel of the platform. A deployment's keys share one prefix, so two
 * platforms (a running one and a test run) can share a Redis without colliding.
 */
export function redisKeys(prefix: string) {
  const p = `${prefix}:`;
  return {
    prefix,
    /** Set of cell ids that have announced themselves. */
    cells: `${p}cells`,
    /** String (JSON CellPresence) with a TTL. */
    cellPresence: (cellId: string) => `${p}cell:${cellId}`,
    /** Queue name of one cell's work. BullMQ adds its own `bull:` prefix. */
    cellQueue: (cellId: string) => `${prefix}-cell-${cellId}`,
    /** Hash instanceId -> JSON ActualInstance, per app. */
    appInstances: (appId: string) => `${p}app-instances:${appId}`,
    /** Set of hosts that have routes (written by the controller). */
    routeHosts: `${p}route-hosts`,
    /** Hash path -> JSON RouteEntry, per host (written by the controller). */
    hostRoutes: (host: string) => `${p}routes:${host}`,
    /** Set of endpointSetKey(appId, processType) that have (or had) endpoints. */
    endpointSets: `${p}endpoint-sets`,
    /** Hash instanceId -> JSON Endpoint, per app and process type (written by cells). */
    endpoints: (appId: string, processType: string) => `${p}endpoints:${appId}/${processType}`,
    /**
     * String (epoch ms) set by the controller once every route in Postgres is projected. Missing
     * means Redis lost its data (restarted empty, flushed): the controller projects the routes
     * again and sets it; until then routers keep the hosts they have (a snapshot without it is
     * not the whole table).
     */
    routesProjected: `${p}routes-projected`,
    /**
     * String (epoch ms) with a TTL, set by the controller that saw Redis lose its data: while it
     * exists the cells are still re-reporting, and no replica's convergence acts on the actual state.
     */
    redisRebuilt: `${p}redis-rebuilt`,
    /** Hash certificate id -> JSON CertificateEntry: what the routers serve over HTTPS (written by the controller). */
    certificates: `${p}certificates`,
    /** Hash wellKnownField(host, path) -> JSON WellKnownAnswer: ACME HTTP-01 and domain-verification answers. */
    wellKnown: `${p}well-known`,
    /** Pub/sub channel of RouteChange messages. */
    routeChanges: `${p}route-changes`,
    /** String (JSON ServiceState) with a TTL, written by the cell running the service instance. */
    serviceState: (serviceInstanceId: string) => `${p}service-state:${serviceInstanceId}`,
    /** Set when an operator asked the cell to drain (the cell reads it at every heartbeat). */
    cellDrain: (cellId: string) => `${p}cell-drain:${cellId}`,
    /** Hash `${processType}:${index}` -> JSON {count, lastCrashAt}: crash history for restart backoff. */
    crashes: (appId: string) => `${p}crashes:${appId}`,
    /** Sorted set (score: epoch ms) of `cellId|memoryMb|instanceId` placed in the last seconds. */
    recentPlacements: `${p}recent-placements`,
    /** Held by the controller running a push (staging, then its deployment), while it runs. */
    buildLease: (buildId: string) => `${p}build-lease:${buildId}`,
    /** Held by the controller running a deployment, while it runs. */
    deployLease: (deploymentId: string) => `${p}deploy-lease:${deploymentId}`,
    /**
     * Set (JSON {by, at}) when someone asked to cancel a running deployment; the controller
     * replica running it polls this key, whichever replica took the request.
     */
    deployCancel: (deploymentId: string) => `${p}deploy-cancel:${deploymentId}`,
    /** The convergence leader's lease (one controller replica at a time). */
    convergerLeader: `${p}leader:converger`,
    /** Hash `${processType}:${index}` -> reason: instances that could not be placed. */
    unplaced: (appId: string) => `${p}unplaced:${appId}`,
    /** Pub/sub channel of one build's log lines; `buildLogEnd` marks the end. */
    buildLog: (buildId: string) => `${p}build-log:${buildId}`,
    /** Pub/sub channel of one task's output lines and its end (see runTaskJobSchema). */
    taskLog: (taskId: string) => `${p}task-log:${taskId}`,
    /** Stream of one app's log lines (fields: see appLogFields in logs.ts), capped with MAXLEN ~. */
    appLogs: (appId: string) => `${p}app-logs:${appId}`,
    /**
     * Hash `${instanceId}:out|err` -> byte offset of an instance's output file shipped so far, per
     * cell; written in the same transaction as the lines, so a restarted cell neither repeats nor skips.
     */
    logOffsets: (cellId: string) => `${p}log-offsets:${cellId}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
