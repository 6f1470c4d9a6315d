/**
 * A generative walk of the API as the controller serves it: every operation of /v1/openapi.json,
 * with malformed values for each path parameter, query parameter and body field (type confusion,
 * NUL, lone surrogates and other control characters, bytes that are not UTF-8, huge strings and
 * numbers, deep nesting, bodies that are not JSON or not an object, the wrong content type). No
 * answer may be a 5xx; every write must be refused with a 4xx and the project's error shape; and
 * the database is the same afterwards, row for row. Bounded: a fixed seed and a fixed number of
 * runs per operation, as an admin and as a developer of the space.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as fc from 'fast-check';
import { errorBodySchema } from '@paas/contracts';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { createApp, createOrg, createSpace, createUser, defaultDomainId, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';
import { PrismaService } from '../platform/database/prisma.service';

const SEED = 1313;
const RUNS_ADMIN = 14;
const RUNS_DEVELOPER = 6;

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; enum?: unknown[]; minimum?: number; maximum?: number; items?: JsonSchema };
interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  body?: JsonSchema;
}
/** One request as sent on the wire: the path already percent-encoded (or deliberately not). */
interface Probe {
  what: string;
  path: string;
  body?: string;
  contentType?: string;
}

/** Every row of every table, as text. */
async function snapshot(prisma: PrismaService): Promise<Record<string, string[]>> {
  const tables = await prisma.$queryRawUnsafe<Array<{ name: string }>>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    out[name] = (await prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT to_jsonb(t)::text AS row FROM "${name}" t ORDER BY 1`)).map((r) => r.row);
  }
  return out;
}

/** Sends a probe with node:http (no URL normalisation); a stream is cut once its head arrived. */
function send(url: string, method: string, token: string, probe: Probe): Promise<{ status: number; type: string; text: string }> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (probe.body !== undefined) {
    headers['content-type'] = probe.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(probe.body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: probe.path, method, headers, timeout: 15_000 }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, type, text: '' });
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c.length + text.length > 4096 ? '' : c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${probe.path.slice(0, 200)}`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer 431/413 and close before the whole request was written.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') resolve({ status: 0, type: '', text: error.code });
      else reject(error);
    });
    if (probe.body !== undefined) req.write(probe.body);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Malformed values

const BAD_CHARS = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\u0001', '\u0008', '\u000b', '\u001b', '\u007f'];
/** A string with at least one NUL, lone surrogate or control character in it. */
const badString = fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...BAD_CHARS), fc.string({ maxLength: 8 })).map(([a, b, c]) => a + b + c);

/** Pieces of a URL that are bad once decoded: NUL, CESU-8 surrogates, overlong NUL, bytes that are not UTF-8, control characters, dot segments, encoded slashes. */
const BAD_URL_PIECES = ['%00', '%ED%A0%80', '%ED%BF%BF', '%C0%80', '%FF', '%FE%FF', '%01', '%1B', '%0A', '%0D', '%09', '%7F', '..', '%2e%2e', '%2F', '%5C'];
const encodedText = fc.string({ maxLength: 8 }).map(encodeURIComponent);
/** A path or query value as sent, percent-encoded: always malformed for what the API expects. */
const badUrlValue = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(encodedText, fc.constantFrom(...BAD_URL_PIECES), encodedText).map(([a, b, c]) => a + b + c) },
  { weight: 2, arbitrary: fc.constantFrom('-1', '0', '1.5', '1e308', '-1e308', 'NaN', 'Infinity', '99999999999999999999999', '0x10', '[]', '{}', 'null', 'true', '', 'not-a-uuid', '00000000-0000-0000-0000-00000000000g') },
  { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n) => 'a'.repeat(n)) },
);

const nested = (depth: number, leaf: unknown, asObject: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
};
const deep = fc.tuple(fc.integer({ min: 65, max: 2000 }), fc.boolean()).map(([d, o]) => nested(d, 'x', o));
const hugeString = fc.integer({ min: 120_000, max: 200_000 }).map((n) => 'x'.repeat(n));

function typeOf(schema: JsonSchema): string | undefined {
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  if (t) return t;
  const alt = (schema.anyOf ?? schema.oneOf ?? []).find((s) => s.type !== 'null');
  return alt ? typeOf(alt) : schema.enum ? 'enum' : undefined;
}

/** A value that no field of this schema takes. */
function badValueFor(schema: JsonSchema): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  const common = [badString, deep, hugeString];
  switch (type) {
    case 'string':
    case 'enum':
      return fc.oneof(...common, fc.integer(), fc.boolean(), fc.array(fc.string(), { minLength: 1, maxLength: 3 }), fc.constant({ a: 1 }));
    case 'integer':
    case 'number': {
      const beyond = [1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2];
      if (schema.maximum !== undefined) beyond.push(schema.maximum + 1);
      if (schema.minimum !== undefined) beyond.push(schema.minimum - 1);
      if (type === 'integer') beyond.push(1.5);
      return fc.oneof(badString, deep, fc.constantFrom(...beyond), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant([1]));
    }
    case 'boolean':
      return fc.oneof(badString, deep, fc.constantFrom('true', 'yes', 1, 0, [true]));
    case 'array':
      return fc.oneof(badString, deep, fc.integer(), fc.array(badString, { minLength: 1, maxLength: 3 }), fc.constant({ 0: 'a' }));
    case 'object': {
      const inner = Object.entries(schema.properties ?? {});
      const nestedBad = inner.length
        ? fc.constantFrom(...inner).chain(([k, s]) => badValueFor(s).map((v) => ({ [k]: v })))
        : fc.tuple(badString, fc.string({ maxLength: 4 })).map(([k, v]) => ({ [k]: v }));
      return fc.oneof(badString, deep, fc.integer(), fc.constant(['a']), nestedBad, badString.map((v) => ({ A: v })));
    }
    default:
      return fc.oneof(badString, deep, hugeString);
  }
}

/** A request body that breaks the schema somewhere: a field malformed, the whole body of another type, or no JSON at all. */
function badBody(schema: JsonSchema): fc.Arbitrary<Pick<Probe, 'body' | 'contentType' | 'what'>> {
  const props = Object.entries(schema.properties ?? {});
  const fields = props.length
    ? fc
        .subarray(props, { minLength: 1 })
        .chain((chosen) => fc.tuple(...chosen.map(([name, s]) => badValueFor(s).map((v) => [name, v] as const))))
        .map((pairs) => ({ what: `fields ${pairs.map(([n]) => n).join(',')}`, body: JSON.stringify(Object.fromEntries(pairs)) }))
    : fc.constant({ what: 'a field of a body that takes none', body: JSON.stringify({ a: '\u0000' }) });
  return fc.oneof(
    { weight: 4, arbitrary: fields },
    { weight: 1, arbitrary: fc.constantFrom(...FIXED_BODIES) },
    { weight: 1, arbitrary: hugeString.map((s) => ({ what: 'a body over the size limit', body: JSON.stringify({ a: s }) })) },
  );
}

/** Bodies of another type, bodies that are not JSON, and a JSON body under another content type. */
const FIXED_BODIES: Array<Pick<Probe, 'body' | 'contentType' | 'what'>> = [
  ...['"a string"', '123', 'null', 'true', '[]', '[{"a":1}]'].map((body) => ({ what: `a body of another type (${body})`, body })),
  ...['{', '{"a":', '{"a": 1}}', 'nul', '\u0000', '{"a": "\\ud800', "{'a': 1}"].map((body) => ({ what: `a body that is not JSON (${JSON.stringify(body)})`, body })),
  ...['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream'].map((contentType) => ({
    what: `a JSON body sent as ${contentType}`,
    body: JSON.stringify({ name: 'valid-looking', command: 'x', var: { A: 'b' } }),
    contentType,
  })),
];

/** A query string with one parameter malformed: a bad value, a repeated or bracketed name, a bad name. */
function badQuery(names: string[]): fc.Arbitrary<{ what: string; query: string }> {
  const name = fc.constantFrom(...names);
  return fc.oneof(
    fc.tuple(name, badUrlValue).map(([n, v]) => ({ what: `?${n}= malformed`, query: `${n}=${v}` })),
    fc.tuple(name, badUrlValue).map(([n, v]) => ({ what: `?${n}= repeated`, query: `${n}=a&${n}=${v}` })),
    fc.tuple(name, fc.constantFrom('[]', '[a]', '%00', '%ED%A0%80')).map(([n, s]) => ({ what: `?${n}${s}=`, query: `${n}${s}=1` })),
  );
}

describe('a generative walk of /v1/openapi.json: no 5xx, every bad write refused, nothing changed', () => {
  let h: ControllerHarness;
  let prisma: PrismaService;
  let dev: TestUser;
  let operations: Operation[];
  const valid: Record<string, string> = {};
  let before0: Record<string, string[]>;

  before(async () => {
    h = await startControllerHarness();
    prisma = h.app.get(PrismaService);
    const org = await createOrg(h, 'fuzz-org');
    const space = await createSpace(h, org, 'fuzz-space');
    dev = await createUser(h, 'fuzz-dev');
    await grant(h, space, dev, 'developer');
    await createApp(h, space, 'fuzz-app');
    expectStatus(await h.call('PATCH', '/v1/apps/fuzz-app/env', { var: { KEEP: 'kept' } }), 202);
    const domain = await defaultDomainId(h);
    const route = expectStatus(await h.call('POST', '/v1/routes', { host: 'fuzz-host', domain_id: domain, space_id: space }), 201).body.id as string;
    const group = expectStatus(await h.call('POST', '/v1/security-groups', { name: 'fuzz-group', rules: [{ protocol: 'tcp', destination: '10.0.0.0/8', ports: '443' }] }), 201).body
      .id as string;
    // The real resources a path names when another part of the request is the malformed one.
    Object.assign(valid, { org, space, route, group, domain, user: dev.id, app: 'fuzz-app', type: 'web' });
    const doc = expectStatus(await h.call('GET', '/v1/openapi.json', undefined, null), 200).body as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        body: op.requestBody?.content['application/json']?.schema,
      })),
    );
    before0 = await snapshot(prisma);
  });

  after(async () => {
    await h?.stop();
  });

  /** The real value of a path parameter, by where it stands: /v1/orgs/{id} is the org, /v1/routes/{id} the route. */
  function validParam(path: string, name: string): string {
    if (name === 'app' || name === 'type') return valid[name];
    if (name === 'id') {
      const resource = path.split('/')[2];
      const byResource: Record<string, string | undefined> = { orgs: valid.org, spaces: valid.space, routes: valid.route, 'security-groups': valid.group, domains: valid.domain, users: valid.user };
      // Ids under an app (deployments, builds), cells and events: none exists, so any id is unknown.
      return path.startsWith('/v1/apps/') ? randomUUID() : (byResource[resource] ?? randomUUID());
    }
    return randomUUID();
  }

  const fill = (op: Operation, values: Record<string, string>) => op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? validParam(op.path, name));

  /** What can be malformed in this operation, as probes. A write only ever goes out with something malformed. */
  function probesOf(op: Operation): fc.Arbitrary<Probe> | undefined {
    const kinds: Array<fc.Arbitrary<Probe>> = [];
    for (const param of op.pathParams) {
      kinds.push(badUrlValue.map((v) => ({ what: `path {${param}}`, path: fill(op, { [param]: v }) })));
    }
    if (op.queryParams.length && op.method === 'GET') {
      kinds.push(badQuery(op.queryParams).map((q) => ({ what: q.what, path: `${fill(op, {})}?${q.query}` })));
    }
    if (op.body) kinds.push(badBody(op.body).map((b) => ({ ...b, path: fill(op, {}) })));
    return kinds.length ? fc.oneof(...kinds) : undefined;
  }

  for (const [who, runs] of [
    ['admin', RUNS_ADMIN],
    ['developer', RUNS_DEVELOPER],
  ] as const) {
    test(`${who}: every operation, ${runs} malformed requests each`, async (t) => {
      const token = who === 'admin' ? h.adminToken : dev.token;
      let sent = 0;
      const statuses = new Map<number, number>();
      for (const op of operations) {
        const probes = probesOf(op);
        if (!probes) continue;
        const check = async (probe: Probe) => {
          sent++;
          const res = await send(h.url, op.method, token, probe);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `${op.method} ${op.path} with ${probe.what}: ${probe.path.slice(0, 160)} ${probe.body?.slice(0, 160) ?? ''} -> ${res.status} ${res.text.slice(0, 300)}`;
          assert.ok(res.status < 500, `a 5xx: ${where}`);
          if (op.method !== 'GET') assert.ok(res.status === 0 || (res.status >= 400 && res.status < 500), `a malformed write was not refused: ${where}`);
          if (res.status >= 400 && res.type.startsWith('application/json')) {
            assert.ok(errorBodySchema.safeParse(JSON.parse(res.text)).success, `the error shape: ${where}`);
          }
        };
        // Every body kind that is not a malformed field, once each; then the generated ones.
        if (op.body) for (const probe of FIXED_BODIES) await check({ ...probe, path: fill(op, {}) });
        await fc.assert(fc.asyncProperty(probes, check), { seed: SEED, numRuns: runs, endOnFailure: true });
      }
      t.diagnostic(`${sent} requests to ${operations.length} operations; answers: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s || 'closed'} x${n}`).join(', ')}`);
      assert.ok(sent > operations.length, `sent ${sent} requests to ${operations.length} operations`);
    });
  }

  test('the database is row for row what it was', async () => {
    assert.deepEqual(await snapshot(prisma), before0);
    assert.deepEqual(expectStatus(await h.call('GET', '/v1/apps/fuzz-app/env'), 200).body.var, { KEEP: 'kept' });
  });
});
