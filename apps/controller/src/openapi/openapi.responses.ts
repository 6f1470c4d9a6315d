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
  Domain: obj({ id, name: str, shared: bool, default: bool, org_id: strOrNull, created_at: time }),
  Destination: destination,
  Route: obj({ id, host: str, path: str, url: str, domain: obj({ id, name: str }), space_id: id, destinations: { type: 'array', items: ref('Destination') }, created_at: time }),
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
  Cell: obj({
    id: str,
    address: str,
    zone: str,
    started_at: str,
    state: { type: 'string', enum: ['live', 'draining'] },
    used_memory_mb: int,
    capacity: obj({ memory_mb: int, max_containers: int }),
    instances: obj({ total: int, starting: int, running: int, crashed: int, stopped: int }),
    reported_instances: int,
    allocated_memory_mb: int,
    apps: { type: 'array', items: obj({ id, name: str, instances: int }) },
  }),
};
