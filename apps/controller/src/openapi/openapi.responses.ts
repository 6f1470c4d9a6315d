/** JSON Schemas of the resources the API answers with (documentation only; the views are built in each module). */
type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const strOrNull: Schema = { type: ['string', 'null'] };
const id: Schema = { type: 'string', format: 'uuid' };
const time: Schema = { type: 'string', format: 'date-time' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const obj = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties, required: Object.keys(properties) });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const destination = obj({ id, app: obj({ id, name: str }), process_type: str, port: int, weight: { type: ['integer', 'null'] }, created_at: time });

export const RESPONSE_SCHEMAS: Record<string, Schema> = {
  Error: obj({ error: { type: 'object', properties: { code: str, message: str, details: {} }, required: ['code', 'message'] } }),
  Pagination: obj({
    total_results: int,
    total_pages: int,
    first: obj({ href: str }),
    last: obj({ href: str }),
    next: { oneOf: [obj({ href: str }), { type: 'null' }] },
    previous: { oneOf: [obj({ href: str }), { type: 'null' }] },
  }),
  App: obj({ id, name: str, state: { enum: ['STARTED', 'STOPPED'] }, space_id: id, space_name: str, org_name: str, current_release_id: strOrNull, url: str, git_url: str, created_at: time, updated_at: time }),
  Org: obj({ id, name: str, created_at: time }),
  Space: obj({ id, name: str, org_id: id, org_name: str, created_at: time }),
  Role: obj({ space_id: id, user_id: id, user_name: str, role: { enum: ['admin', 'developer', 'viewer'] }, created_at: time }),
  User: obj({ id, name: str, is_admin: bool, created_at: time }),
  Me: obj({
    id,
    name: str,
    is_admin: bool,
    created_at: time,
    roles: { type: 'array', items: obj({ space_id: id, space_name: str, org_id: id, org_name: str, role: str }) },
  }),
  Token: obj({ id, name: str, user_id: id, created_at: time }),
  TokenCreated: obj({ id, name: str, user_id: id, created_at: time, token: { type: 'string', description: 'the secret: send it as "Authorization: Bearer TOKEN"; shown only once' } }),
  Domain: obj({
    id,
    name: str,
    shared: bool,
    default: bool,
    org_id: strOrNull,
    verification: obj({
      state: { enum: ['verified', 'pending'] },
      token: strOrNull,
      http_url: strOrNull,
      dns_record: { oneOf: [obj({ name: str, type: { enum: ['TXT'] }, value: str }), { type: 'null' }] },
      verified_at: { type: ['string', 'null'], format: 'date-time' },
      last_error: strOrNull,
    }),
    created_at: time,
  }),
  SecurityGroup: obj({
    id,
    name: str,
    rules: {
      type: 'array',
      items: {
        type: 'object',
        properties: { protocol: { enum: ['tcp', 'udp', 'icmp', 'all'] }, destination: str, ports: str, type: int, code: int, description: str },
        required: ['protocol', 'destination'],
      },
    },
    globally_enabled: obj({ running: bool, staging: bool }),
    running_space_ids: { type: 'array', items: id },
    staging_space_ids: { type: 'array', items: id },
    created_at: time,
    updated_at: time,
  }),
  ServicePlan: obj({ name: str, offering: str, description: str, memory_mb: int, disk_mb: int, free: bool }),
  ServiceOffering: obj({ name: str, description: str, tags: { type: 'array', items: str }, version: str, broker: str, plans: { type: 'array', items: ref('ServicePlan') } }),
  ServiceOfferings: obj({ resources: { type: 'array', items: ref('ServiceOffering') } }),
  ServicePlans: obj({ resources: { type: 'array', items: ref('ServicePlan') } }),
  ServiceInstance: obj({
    id,
    name: str,
    offering: str,
    plan: str,
    space_id: id,
    space_name: str,
    org_name: str,
    last_operation: obj({ type: { enum: ['create', 'update', 'delete', 'restore'] }, state: { enum: ['in progress', 'succeeded', 'failed'] }, description: strOrNull, updated_at: time }),
    status: { enum: ['available', 'starting', 'crashed', 'unavailable', null], description: 'how its server stands (its cell\'s report and presence); null while it is created or deleted, or when its create failed' },
    status_reason: { ...strOrNull, description: 'what is wrong when not available, e.g. "cell c1 is lost: its data stays on its volume"' },
    cell_id: strOrNull,
    bound_apps: { type: 'array', items: str },
    created_at: time,
    updated_at: time,
  }),
  ServiceInstances: obj({ resources: { type: 'array', items: ref('ServiceInstance') } }),
  ServiceKey: {
    ...obj({ id, name: str, service_instance_id: id, service_instance_name: str, created_at: time }),
    properties: {
      id, name: str, service_instance_id: id, service_instance_name: str, created_at: time,
      credentials: { type: 'object', description: 'uri, host, port, username, password, name (and database for postgres); only in the answer to create and to GET of one key', additionalProperties: { type: ['string', 'integer'] } },
    },
  },
  ServiceKeys: obj({ resources: { type: 'array', items: { ...ref('ServiceKey'), description: 'without credentials' } } }),
  ServiceBroker: obj({ id, name: str, url: str, username: str, offerings: { type: 'array', items: str }, created_at: time, updated_at: time }),
  ServiceBrokers: obj({ resources: { type: 'array', items: ref('ServiceBroker') } }),
  ServiceBinding: obj({ id, app_id: id, app_name: str, service_instance_id: id, service_instance_name: str, offering: str, created_at: time }),
  ServiceBindings: obj({ resources: { type: 'array', items: ref('ServiceBinding') } }),
  ServiceBound: obj({ binding: ref('ServiceBinding'), release_version: { type: ['integer', 'null'] }, deployment_id: strOrNull }),
  ChangeResult: obj({ release_version: { type: ['integer', 'null'] }, deployment_id: strOrNull }),
  Destination: destination,
  Route: obj({ id, host: str, path: str, url: str, domain: obj({ id, name: str }), space_id: id, destinations: { type: 'array', items: ref('Destination') }, https_redirect: bool, hsts_max_age: { type: ['integer', 'null'] }, created_at: time }),
  Destinations: obj({ route_id: id, destinations: { type: 'array', items: ref('Destination') } }),
  BuildLog: obj({
    build_id: id,
    state: { enum: ['STAGING', 'STAGED', 'FAILED'] },
    complete: { type: 'boolean', description: 'the push ended: no more lines come' },
    dropped_lines: { type: 'integer', description: 'lines dropped from the start: a build keeps the last 1 MB of its log' },
    last_seq: { type: 'integer', description: 'ask again with since=last_seq for the lines after these' },
    lines: { type: 'array', items: obj({ seq: int, text: str, time }) },
  }),
  Event: obj({
    id,
    type: str,
    actor: obj({ id: strOrNull, name: str }),
    target: obj({ type: str, id: str, name: str }),
    space_id: strOrNull,
    data: { type: 'object' },
    created_at: time,
  }),
  Instance: obj({
    index: int,
    instance_id: str,
    process_type: str,
    state: {
      enum: ['STARTING', 'RUNNING', 'STOPPING', 'CRASHED', 'DOWN', 'UNPLACED'],
      description: 'STOPPING: its cell is stopping it (scale down, app stopped, replaced by a deploy, cell draining); it no longer runs or takes requests',
    },
    cell_id: str,
    address: strOrNull,
    release_id: str,
    release_version: { type: ['integer', 'null'], description: 'the version of its release; null when unplaced' },
    stop_reason: { ...strOrNull, description: 'why it is STOPPING ("scaled down", "replaced by v4"); null in other states' },
    uptime_s: int,
    since: str,
    crash_count: int,
    last_crash_reason: { ...strOrNull, description: 'how its index last crashed: "exited with status 3", "killed by signal 9 (SIGKILL)", "out of memory (killed at its 256 MB limit)" or a failed health check, then its last log lines' },
    unplaced_reason: strOrNull,
    memory_limit_mb: { type: ['integer', 'null'], description: 'memory limit of its container in MiB (UNPLACED: the process limit); null when unknown' },
    disk_limit_mb: { type: ['integer', 'null'], description: 'size limit of its writable layer in MiB (UNPLACED: the process limit); null when unknown' },
    usage: {
      oneOf: [
        obj({
          cpu_percent: { type: 'number', description: '% of one core over the cell\'s last sampling interval (above 100 on several cores)' },
          memory_bytes: { type: 'integer', description: 'memory in use: cgroup usage minus inactive file cache' },
          disk_bytes: { type: 'integer', description: 'bytes used on its writable layer' },
          measured_at: time,
        }),
        { type: 'null' },
      ],
      description: 'the latest sample of its cell (every CELL_USAGE_INTERVAL_MS, 5 s by default); null until the first, and unless STARTING or RUNNING',
    },
  }),
  InstanceList: obj({
    resources: { type: 'array', items: ref('Instance') },
    summary: {
      type: 'array',
      description: 'per process type: its desired count (0 while the app is stopped) and its instances by state; running never counts STOPPING ones',
      items: obj({ process_type: str, desired: int, running: int, starting: int, stopping: int, crashed: int, unplaced: int }),
    },
  }),
  LogEntry: obj({
    id: { type: 'string', description: 'the Redis stream id (<ms>-<seq>): entries are ordered by it; resume a stream after it' },
    timestamp: { ...time, description: 'when the line reached the log store (the id time): the same clock for every source' },
    source: { type: 'string', description: 'APP/PROC/<TYPE>/<index>, APP/TASK/RELEASE/0, STG/0, RTR/0, CELL/<index> or API/0' },
    stream: { enum: ['OUT', 'ERR'] },
    text: { type: 'string', description: 'the line, at most 8192 characters (longer ones end with " [line cut]")' },
  }),
  LogEntries: obj({ resources: { type: 'array', items: ref('LogEntry') } }),
  Cell: obj({
    id: str,
    address: str,
    zone: str,
    started_at: str,
    state: { type: 'string', enum: ['live', 'draining'] },
    used_memory_mb: int,
    capacity: obj({ memory_mb: int, max_containers: int }),
    instances: obj({ total: int, starting: int, running: int, stopping: int, crashed: int, stopped: int }),
    reported_instances: int,
    allocated_memory_mb: int,
    apps: { type: 'array', items: obj({ id, name: str, instances: int }) },
  }),
};
