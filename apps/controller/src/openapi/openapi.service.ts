import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { z } from 'zod';
import { OPERATIONS, type OperationDoc } from './openapi.catalog';
import { RESPONSE_SCHEMAS } from './openapi.responses';
import { discoverRoutes, type DiscoveredRoute } from './route-discovery';

type Schema = Record<string, unknown>;

const ERROR_TEXT: Record<number, string> = {
  400: 'a field or parameter breaks a rule; details lists {field, rule}',
  401: 'no API token, or an unknown one',
  403: 'you can see it, but your role does not allow this change',
  404: 'no such resource, or you may not see it',
  409: 'the name or route is taken',
  422: 'well formed, but cannot be done now; the message says how to fix it',
};

/**
 * The OpenAPI 3.1 document of the /v1 API, built from what Nest actually serves: every route of
 * every controller (route discovery), its request body schema generated from the zod schema its
 * ZodBodyPipe validates with (`z.toJSONSchema`), plus summaries, query parameters and answers from
 * the catalog. Built once, on first request.
 */
@Injectable()
export class OpenApiService {
  private document?: Schema;

  constructor(private readonly discovery: DiscoveryService) {}

  routes(): DiscoveredRoute[] {
    const controllers = this.discovery
      .getControllers()
      .map((w) => w.metatype)
      .filter((m): m is abstract new (...args: never[]) => unknown => typeof m === 'function');
    return discoverRoutes(controllers).filter((r) => r.path === '/v1' || r.path.startsWith('/v1/'));
  }

  build(): Schema {
    if (this.document) return this.document;
    const paths: Record<string, Record<string, Schema>> = {};
    for (const route of this.routes()) {
      const key = `${route.method} ${route.path}`;
      const doc: OperationDoc = OPERATIONS[key] ?? { summary: key };
      (paths[route.path] ??= {})[route.method.toLowerCase()] = this.operation(route, doc);
    }
    const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
    this.document = {
      openapi: '3.1.0',
      info: {
        title: 'paas controller API',
        version: '1',
        description:
          'The REST API of the platform controller. JSON in and out; every call but /v1/openapi.json and /v1/docs needs "Authorization: Bearer TOKEN". ' +
          'Errors always have the shape {"error": {"code", "message", "details"}}. Lists are paginated (?page=&per_page=, at most 200) with stable ordering.',
      },
      servers: [{ url: '/' }],
      security: [{ bearer: [] }],
      tags: [...new Set(Object.keys(sorted).map(tagOf))].map((name) => ({ name })),
      paths: sorted,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (POST /v1/users/{id}/tokens; the admin token is in .paas/admin-token)' } },
        schemas: RESPONSE_SCHEMAS,
      },
    };
    return this.document;
  }

  private operation(route: DiscoveredRoute, doc: OperationDoc): Schema {
    const parameters: Schema[] = [
      ...route.pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(doc.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } })),
      ...(doc.paginated
        ? [
            { name: 'page', in: 'query', required: false, description: 'page number, from 1', schema: { type: 'integer', minimum: 1, default: 1 } },
            { name: 'per_page', in: 'query', required: false, description: 'results per page', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          ]
        : []),
    ];
    const responses: Record<string, Schema> = { [String(route.status)]: this.success(route, doc) };
    const errors = new Set<number>(doc.errors ?? []);
    if (route.bodySchema || doc.query || doc.paginated) errors.add(400);
    if (route.guarded && !doc.public) errors.add(401);
    if (route.guarded && route.method !== 'GET') errors.add(403);
    if (route.pathParams.length > 0 || route.bodySchema) errors.add(404);
    for (const status of [...errors].sort()) {
      responses[String(status)] = { description: ERROR_TEXT[status] ?? 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    return {
      operationId: `${route.controller}.${route.handler}`,
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      tags: [tagOf(route.path)],
      ...(route.guarded && !doc.public ? {} : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(route.bodySchema
        ? { requestBody: { required: true, content: { 'application/json': { schema: bodyJsonSchema(route.bodySchema) } } } }
        : {}),
      responses,
    };
  }

  private success(route: DiscoveredRoute, doc: OperationDoc): Schema {
    if (route.status === 204) return { description: 'done; no content' };
    if (route.path === '/v1/docs') return { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } };
    if (doc.eventStream) {
      const event = doc.response ? { description: 'the data of each event', $ref: `#/components/schemas/${doc.response}` } : { type: 'string' };
      return { description: 'a stream of server-sent events', content: { 'text/event-stream': { schema: { type: 'string' }, 'x-event-data': event } } };
    }
    if (doc.text) {
      const json = doc.response ? { 'application/json': { schema: { $ref: `#/components/schemas/${doc.response}` } } } : {};
      return { description: 'ok', content: { 'text/plain': { schema: { type: 'string' } }, ...json } };
    }
    let schema: Schema = doc.response ? { $ref: `#/components/schemas/${doc.response}` } : { type: 'object' };
    if (doc.paginated) {
      schema = { type: 'object', properties: { pagination: { $ref: '#/components/schemas/Pagination' }, resources: { type: 'array', items: schema } }, required: ['pagination', 'resources'] };
    }
    const description = route.status === 201 ? 'created' : route.status === 202 ? 'accepted; the change rolls out' : 'ok';
    return { description, content: { 'application/json': { schema } } };
  }
}

function tagOf(path: string): string {
  return path.split('/')[2] ?? 'v1';
}

/** The request body's JSON Schema, generated from its zod schema (input side: defaults are optional). */
function bodyJsonSchema(schema: z.ZodType): Schema {
  try {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Schema;
    delete json.$schema;
    return json;
  } catch {
    return { type: 'object', description: 'see docs/api.md' };
  }
}
