/**
 * What the controllers' metadata cannot say about an endpoint: its summary, query parameters,
 * the errors it may answer beyond the usual ones, and the shape of its answer. Endpoints missing
 * here are still documented (route discovery finds them), with a generic summary.
 */
export interface OperationDoc {
  summary: string;
  description?: string;
  /** name -> description; every query parameter is a string. */
  query?: Record<string, string>;
  /** Adds page and per_page, and a `pagination` envelope around `response`. */
  paginated?: boolean;
  /** Extra error statuses, e.g. 409, 422. */
  errors?: number[];
  /** Name of a component schema (see RESPONSE_SCHEMAS). */
  response?: string;
  /** No token needed. */
  public?: boolean;
  /** Answers text/plain (and `response` as JSON with ?format=json). */
  text?: boolean;
  /** Answers text/event-stream (server-sent events; `response` names the schema of each event's data). */
  eventStream?: boolean;
}

const ids = (what: string) => `comma-separated ${what} ids`;

export const OPERATIONS: Record<string, OperationDoc> = {
  // apps
  'GET /v1/apps': { summary: 'List apps', paginated: true, query: { space_ids: ids('space'), names: 'comma-separated app names' }, response: 'App' },
  'POST /v1/apps': { summary: 'Create an app (and its default route NAME.<apps domain> unless no_route)', errors: [409], response: 'App' },
  'GET /v1/apps/{app}': { summary: 'Get an app by id or name', response: 'App' },
  'PATCH /v1/apps/{app}': { summary: 'Rename an app', errors: [409], response: 'App' },
  'DELETE /v1/apps/{app}': { summary: 'Delete an app: unmap its routes, stop its instances, forget its builds' },
  // lifecycle
  'GET /v1/apps/{app}/env': { summary: "Get an app's environment variables" },
  'PATCH /v1/apps/{app}/env': { summary: 'Set (string) or remove (null) environment variables; rolls out a new release', errors: [409, 422] },
  'GET /v1/apps/{app}/processes': { summary: "List an app's process types" },
  'GET /v1/apps/{app}/processes/{type}': { summary: 'Get one process type' },
  'PATCH /v1/apps/{app}/processes/{type}': { summary: 'Update a process type (command, health check)', errors: [422] },
  'POST /v1/apps/{app}/processes/{type}/actions/scale': { summary: 'Scale a process type (instances, memory_mb, disk_mb, cpu_millicores)', errors: [409, 422] },
  'GET /v1/apps/{app}/processes/{type}/instances': { summary: 'Actual instances of one process type, with their limits and usage', response: 'InstanceList' },
  'GET /v1/apps/{app}/instances': {
    summary: 'Actual instances of an app, as its cells report them, with their limits and usage',
    description: 'usage (CPU %, memory and disk in use) is sampled by each cell every few seconds; measured_at says when. See docs/metrics.md.',
    response: 'InstanceList',
  },
  'GET /v1/apps/{app}/builds': { summary: "List an app's builds, newest first", paginated: true },
  'GET /v1/apps/{app}/builds/{id}/log': {
    summary: "A build's log: every line its push said (manifest warnings, staging output, deploy progress, the result)",
    description:
      'text/plain by default (headers X-Paas-Log-Complete and X-Paas-Log-Last-Seq); ?format=json answers a BuildLog. Readable while the push runs: ' +
      'follow it by asking again with since=last_seq until complete is true. A build keeps the last 1 MB of its log; dropped_lines counts what went. ' +
      '404 names GET /v1/apps/{app}/builds for an unknown build id.',
    query: {
      format: 'text (default) or json',
      since: 'only the lines after this seq (last_seq, or X-Paas-Log-Last-Seq, of an earlier answer)',
    },
    response: 'BuildLog',
    text: true,
  },
  'POST /v1/apps/{app}/source': {
    summary: 'Push without git: upload the app directory as a source package (a tar, gzipped or not); answers the build output',
    description:
      'The body is a tar of the app directory (paths relative to it), as `paas push` sends it from a directory that is not a git repository. ' +
      'It is checked first (at most 1 GB, a readable tar, no absolute path, ".." segment, device or path through a symbolic link): 422 says what to fix. ' +
      'Then it is staged and deployed like a git push, and the answer (text/plain, 200) streams the build output line by line, ending with ' +
      '`PAAS-RESULT ok` or `PAAS-RESULT failed`. The build\'s commit_sha is the sha256 of the package. Needs the developer role.',
    errors: [422],
    text: true,
  },
  'GET /v1/apps/{app}/logs': {
    summary: "An app's recent log lines, oldest first: its instances' output, staging, router access lines, cell and API events",
    description:
      'Each entry: id (its Redis stream id; entries are ordered by it), timestamp (ISO), source (a Cloud Foundry tag: APP/PROC/WEB/0, APP/TASK/RELEASE/0, ' +
      'STG/0, RTR/0, CELL/0, API/0), stream (OUT or ERR) and text. An app keeps its last PAAS_APP_LOG_MAX_LINES lines (5000 by default). ' +
      'With since=<id>: the lines after that entry (up to limit), to page forward. See docs/logs.md.',
    query: {
      recent: 'true (the default and only mode: the last lines)',
      limit: 'how many lines, 1 to 1000 (default 100)',
      since: 'only the lines after this entry id (0: from the oldest line kept)',
    },
    response: 'LogEntries',
  },
  'GET /v1/apps/{app}/logs/stream': {
    summary: "Follow an app's log live: server-sent events, resumable without gaps or repeats",
    description:
      'text/event-stream: each line is an event `id: <entry id>`, `event: log`, `data: <LogEntry JSON>`; a comment line every 15 s keeps it open. ' +
      'Resume after an entry with the Last-Event-ID header (an EventSource sends it when it reconnects) or ?since=<id>; without either (or with since=$) only new lines come, ' +
      'after the last ?recent=N lines. The stream ends when the app is deleted or no longer visible to the caller. 400 for a malformed id; 404 for an unknown app.',
    query: {
      since: 'resume after this entry id ($: only new lines, the default; 0: every line kept); the Last-Event-ID header wins over it',
      recent: 'when not resuming: start with the last N lines (0 to 1000, default 0)',
    },
    response: 'LogEntry',
    eventStream: true,
  },
  'GET /v1/apps/{app}/releases': { summary: "List an app's releases, newest first", paginated: true },
  'GET /v1/apps/{app}/releases/{version}': { summary: 'Get one release by version (3 or v3)' },
  'GET /v1/apps/{app}/deployments': { summary: "List an app's deployments, newest first", paginated: true },
  'GET /v1/apps/{app}/deployments/{id}': { summary: 'Get one deployment' },
  'POST /v1/apps/{app}/deployments/{id}/cancel': {
    summary: 'Cancel a running deployment',
    description:
      'The deployment stops at its next step (also while its release command runs or while it waits for new instances to become healthy), ' +
      'removes the instances it started, keeps the previous release serving and ends CANCELED; a waiting git push is told so. ' +
      'Answers the deployment after waiting up to 15 s for it to stop (state CANCELED, or still DEPLOYING when it takes longer). ' +
      '404 for an unknown id, 409 `deployment-not-running` when it already ended. Any controller replica may take the request.',
    errors: [409],
  },
  'POST /v1/apps/{app}/actions/start': { summary: 'Start an app', errors: [409, 422] },
  'POST /v1/apps/{app}/actions/stop': { summary: 'Stop an app', errors: [409] },
  'POST /v1/apps/{app}/actions/restart': { summary: 'Restart an app (rolling)', errors: [409, 422] },
  'POST /v1/apps/{app}/actions/rollback': {
    summary: 'Roll back to an earlier release version',
    description: '410 `release-pruned` when the droplet of that release was pruned (only those of the newest PAAS_RELEASES_KEPT releases are kept).',
    errors: [409, 410, 422],
  },
  // orgs and spaces
  'GET /v1/orgs': { summary: 'List the orgs you can see', paginated: true, query: { names: 'comma-separated org names' }, response: 'Org' },
  'POST /v1/orgs': { summary: 'Create an org (platform admin)', errors: [409], response: 'Org' },
  'GET /v1/orgs/{id}': { summary: 'Get an org', response: 'Org' },
  'PATCH /v1/orgs/{id}': { summary: 'Rename an org (platform admin)', errors: [409], response: 'Org' },
  'DELETE /v1/orgs/{id}': { summary: 'Delete an org and its private domains (platform admin); 422 while it has spaces', errors: [422] },
  'GET /v1/spaces': { summary: 'List the spaces you hold a role in', paginated: true, query: { org_ids: ids('org'), names: 'comma-separated space names' }, response: 'Space' },
  'POST /v1/spaces': { summary: 'Create a space in an org (platform admin)', errors: [409], response: 'Space' },
  'GET /v1/spaces/{id}': { summary: 'Get a space', response: 'Space' },
  'PATCH /v1/spaces/{id}': { summary: 'Rename a space (space admin)', errors: [409], response: 'Space' },
  'DELETE /v1/spaces/{id}': { summary: 'Delete a space with its routes and roles (platform admin); 422 while it has apps', errors: [422] },
  'GET /v1/spaces/{id}/roles': { summary: 'List the roles users hold in a space', paginated: true, response: 'Role' },
  'PUT /v1/spaces/{id}/roles': { summary: 'Give a user (by user_id or user_name) a role in a space, replacing its role there (space admin)', response: 'Role' },
  'DELETE /v1/spaces/{id}/roles/{user_id}': { summary: "Remove a user's role in a space (space admin)" },
  // users and tokens
  'GET /v1/users': { summary: 'List users: all for platform admins, else yourself and the users sharing a space with you', paginated: true, query: { names: 'comma-separated user names' }, response: 'User' },
  'POST /v1/users': { summary: 'Create a user (platform admin)', errors: [409], response: 'User' },
  'GET /v1/users/me': { summary: 'Who am I: your user and your roles', response: 'Me' },
  'GET /v1/users/{id}': { summary: 'Get a user (`me` for yourself)', response: 'User' },
  'DELETE /v1/users/{id}': { summary: 'Delete a user with its tokens and roles (platform admin)', errors: [422] },
  'POST /v1/users/{id}/tokens': { summary: 'Create an API token; the answer carries the secret, shown only this once (the user itself or a platform admin)', response: 'TokenCreated' },
  'GET /v1/users/{id}/tokens': { summary: "List a user's tokens, without secrets", paginated: true, response: 'Token' },
  'DELETE /v1/users/{id}/tokens/{token_id}': { summary: 'Revoke a token' },
  // domains
  'GET /v1/domains': { summary: 'List the shared domains and the private domains of your orgs', paginated: true, query: { names: 'comma-separated domain names', org_ids: ids('org') }, response: 'Domain' },
  'POST /v1/domains': {
    summary: 'Create a shared domain or a private one with org_id (platform admin: verified at once), or a private domain of your org (org manager: pending until verified)',
    description: 'A pending domain answers its verification: the token, the http_url the routers serve it at, and the TXT record (when the platform has PAAS_DNS_RESOLVER). 409 when the name, or one inside or above it, was verified by another org (a pending claim of another org does not stop a claim: the first to verify holds the name) or exists; 422 for a name inside a shared domain or overlapping another.',
    errors: [409, 422],
    response: 'Domain',
  },
  'GET /v1/domains/{id}': { summary: 'Get a domain', response: 'Domain' },
  'POST /v1/domains/{id}/verify': {
    summary: 'Prove control of a pending domain now: {method: http (default) | dns} (org manager)',
    description: 'http: the controller resolves the domain and asks it for http_url (no redirect followed, 5 s, 4 KiB); dns: it reads the TXT record _paas-verification.<domain> (422 unless the platform has PAAS_DNS_RESOLVER). 422 with the reason when it fails (kept as verification.last_error).',
    errors: [422],
    response: 'Domain',
  },
  // security groups
  'GET /v1/security-groups': {
    summary: 'List the application security groups: platform admins see all; others the platform defaults and the groups bound to their spaces',
    paginated: true,
    query: { names: 'comma-separated group names' },
    response: 'SecurityGroup',
  },
  'POST /v1/security-groups': {
    summary: 'Create a security group: name, rules [{protocol tcp|udp|icmp|all, destination IP|CIDR|low-high, ports "443"|"80,443"|"8000-9000"}], globally_enabled {running, staging} (platform admin)',
    errors: [409],
    response: 'SecurityGroup',
  },
  'GET /v1/security-groups/{id}': { summary: 'Get a security group by id or name', response: 'SecurityGroup' },
  'PATCH /v1/security-groups/{id}': { summary: 'Change its name, rules or platform-default flags (platform admin); running containers get the change when they next start', errors: [409], response: 'SecurityGroup' },
  'DELETE /v1/security-groups/{id}': { summary: 'Delete a security group and its bindings (platform admin)' },
  'POST /v1/security-groups/{id}/running-spaces': { summary: "Bind it to spaces' running containers (instances, tasks): {space_ids} (platform admin)", response: 'SecurityGroup' },
  'POST /v1/security-groups/{id}/staging-spaces': { summary: "Bind it to spaces' staging containers (builds): {space_ids} (platform admin)", response: 'SecurityGroup' },
  'DELETE /v1/security-groups/{id}/running-spaces/{spaceId}': { summary: 'Unbind it from a space for running (platform admin)' },
  'DELETE /v1/security-groups/{id}/staging-spaces/{spaceId}': { summary: 'Unbind it from a space for staging (platform admin)' },
  'DELETE /v1/domains/{id}': { summary: 'Delete a domain (platform admin; an org manager for its org\'s); 422 for the default apps domain or while it has routes', errors: [422] },
  // certificates (docs/https.md)
  'GET /v1/certificates': { summary: 'List the certificates of your orgs and the platform\'s own (never a private key)', paginated: true, query: { org_ids: ids('org'), names: 'comma-separated host names a certificate covers' }, response: 'Certificate' },
  'POST /v1/certificates': {
    summary: 'Upload a certificate {source: upload, certificate_chain, private_key} or order one by ACME {source: acme, names} (space admin of the org)',
    description: 'An upload is checked (the key matches, the chain is complete up to a root, valid now, RSA at least 2048 bits, every name on a verified domain of one org): 422 with a code naming what is wrong. An ACME order starts pending; the platform orders it by HTTP-01 and renews it.',
    errors: [403, 422],
    response: 'Certificate',
  },
  'GET /v1/certificates/{id}': { summary: 'Get a certificate: state, names, issuer, expiry, last error', response: 'Certificate' },
  'DELETE /v1/certificates/{id}': { summary: 'Delete a certificate (space admin of the org): the routers stop serving it', errors: [403, 422] },
  // backing services (docs/services.md)
  'GET /v1/service_offerings': { summary: 'The marketplace: the built-in service offerings (postgresql, redis) and their plans', response: 'ServiceOfferings' },
  'GET /v1/service_plans': { summary: 'Service plans, of one offering with ?offering=', query: { offering: 'an offering name (postgresql, redis)' }, errors: [422], response: 'ServicePlans' },
  'POST /v1/service_instances': {
    summary: 'Create a service instance {name, offering, plan, space_id?} (developer): 202 while its cell (or its broker) makes it; or a user-provided one {type: user-provided, name, credentials, tags?}',
    description: 'Placed on a live cell with room for the plan\'s memory; last_operation becomes succeeded once the server runs and is prepared, or failed with the reason. 422 for an unknown offering or plan (naming those there are) or when no cell has room; 409 for a name taken in the space.',
    errors: [409, 422],
    response: 'ServiceInstance',
  },
  'GET /v1/service_instances': { summary: 'List the service instances you can see', query: { space_id: 'a space id', names: 'comma-separated instance names' }, response: 'ServiceInstances' },
  'GET /v1/service_instances/{instance}': { summary: 'Get a service instance by id or name (409 when the name is in several spaces you see: add space_id)', query: { space_id: 'the space to look the name up in' }, errors: [409], response: 'ServiceInstance' },
  'PATCH /v1/service_instances/{instance}': {
    summary: 'Rename {name}, resize {plan} (202 while its cell resizes it: last_operation update in progress), set {backup_retention} 0-100; a user-provided one takes {credentials, tags} (developer)',
    description: 'A resize is to another plan of the same offering: 422 for an unknown plan or a smaller disk, or when the instance\'s cell has not the memory it adds; 409 while an operation is in progress or the server is not available. The plan it has: 200, nothing happens.',
    query: { space_id: 'the space to look the name up in' },
    errors: [409, 422],
    response: 'ServiceInstance',
  },
  'GET /v1/service_instances/{instance}/keys': { summary: "List a service instance's keys (without credentials)", query: { space_id: 'the space to look the name up in' }, response: 'ServiceKeys' },
  'POST /v1/service_instances/{instance}/keys': {
    summary: 'Create a service key {name} (developer): a login of its own, its credentials in the answer (201)',
    description: 'The credentials connect only from the platform\'s hosts (docs/services.md). 409 for a name taken or an instance not created or busy; 422 for user-provided and brokered instances; 503 when the server does not answer.',
    query: { space_id: 'the space to look the name up in' },
    errors: [409, 422, 503],
    response: 'ServiceKey',
  },
  'GET /v1/service_instances/{instance}/keys/{key}': { summary: 'Get a service key by name or id, with its credentials (developer; 403 for a viewer)', query: { space_id: 'the space to look the name up in' }, response: 'ServiceKey' },
  'DELETE /v1/service_instances/{instance}/keys/{key}': { summary: 'Delete a service key: its login is dropped at once (developer)', query: { space_id: 'the space to look the name up in' }, errors: [503] },
  'DELETE /v1/service_instances/{instance}': {
    summary: 'Delete a service instance, its server and its volume (developer): 202 while its cell deletes it; 409 while apps are bound or it has service keys',
    query: { space_id: 'the space to look the name up in' },
    errors: [409],
    response: 'ServiceInstance',
  },
  'POST /v1/apps/{app}/service_bindings': {
    summary: 'Bind a service instance of the app\'s space {service_instance: NAME_OR_ID}: a login of its own, and a new release rolls out',
    errors: [409, 422, 503],
    response: 'ServiceBound',
  },
  'GET /v1/apps/{app}/service_bindings': { summary: "List an app's service bindings", response: 'ServiceBindings' },
  'DELETE /v1/apps/{app}/service_bindings/{instance}': {
    summary: 'Unbind: the binding\'s login is dropped at once (its sessions end) and a release without it rolls out',
    errors: [409, 503],
    response: 'ChangeResult',
  },
  // user-provided instances (POST/PATCH /v1/service_instances) and service brokers (docs/services.md)
  'GET /v1/service_brokers': { summary: 'List the service brokers (platform admin); never their passwords', response: 'ServiceBrokers' },
  'POST /v1/service_brokers': {
    summary: 'Register an Open Service Broker (v2.17) {name, url, username, password} (platform admin): its catalog is fetched and its offerings join the marketplace',
    description: 'Nothing is stored unless GET {url}/v2/catalog answers a valid catalog whose offering names are free in the marketplace. 502 when the broker does not answer or refuses; 422 for a catalog of the wrong shape or an offering name taken (each named).',
    errors: [409, 422, 502],
    response: 'ServiceBroker',
  },
  'GET /v1/service_brokers/{broker}': { summary: 'Get a service broker by id or name (platform admin)', response: 'ServiceBroker' },
  'PATCH /v1/service_brokers/{broker}': { summary: 'Change a broker {name?, url?, username?, password?} and fetch its catalog again (platform admin)', errors: [409, 422, 502], response: 'ServiceBroker' },
  'DELETE /v1/service_brokers/{broker}': { summary: 'Remove a service broker (platform admin); 409 while instances of its offerings exist', errors: [409] },
  // routes and destinations
  'GET /v1/routes': {
    summary: 'List the routes of your spaces',
    paginated: true,
    query: { space_ids: ids('space'), hosts: 'comma-separated hosts', domain_ids: ids('domain'), paths: 'comma-separated paths', app_ids: ids('app') + ' (routes with a destination of one of them)' },
    response: 'Route',
  },
  'POST /v1/routes': { summary: 'Create a route: host + domain + optional path prefix, in a space (developer); 422 on a domain not verified yet', errors: [409, 422], response: 'Route' },
  'GET /v1/routes/{id}': { summary: 'Get a route with its destinations', response: 'Route' },
  'PATCH /v1/routes/{id}': { summary: 'Change its HTTPS settings: https_redirect (308 from http), hsts_max_age (seconds, null: none) (developer)', response: 'Route' },
  'DELETE /v1/routes/{id}': { summary: 'Delete a route; the routers stop serving it at once (developer)' },
  'GET /v1/routes/{id}/destinations': { summary: "List a route's destinations", response: 'Destinations' },
  'POST /v1/routes/{id}/destinations': {
    summary: 'Bind apps to a route: adds destinations (an already bound one takes the new weight)',
    description: 'Weights are relative shares of traffic (missing: 1), e.g. 90 and 10 for a canary. The app must be in the route\'s space, have the process type, and listen on port 8080 ($PORT).',
    errors: [422],
    response: 'Destinations',
  },
  'PATCH /v1/routes/{id}/destinations': {
    summary: "Replace all of a route's destinations (an empty list unbinds every app)",
    description: 'Atomic: concurrent replacements apply one after the other; the route ends up exactly as one request asked.',
    errors: [422],
    response: 'Destinations',
  },
  'DELETE /v1/routes/{id}/destinations/{destination_id}': { summary: 'Unbind one destination from a route' },
  // audit, cells, docs
  'GET /v1/events': {
    summary: 'The audit log, newest first: events of your spaces (platform admins: all)',
    paginated: true,
    query: { types: 'comma-separated event types, e.g. route-mapped,app-created', target_id: 'comma-separated target ids (also target_ids)', space_id: ids('space') + ' (also space_ids)' },
    response: 'Event',
  },
  'GET /v1/events/{id}': { summary: 'Get one event', response: 'Event' },
  'GET /v1/cells': { summary: 'Live cells, their capacity and what runs on them (any user)', paginated: true, query: { zones: 'comma-separated zones' }, response: 'Cell' },
  'GET /v1/cells/{id}': { summary: 'One live cell', response: 'Cell' },
  'GET /v1/openapi.json': { summary: 'This OpenAPI document', public: true },
  'GET /v1/docs': { summary: 'Browsable API reference (HTML)', public: true },
};
