import { RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { z } from 'zod';

/** Nest's RouteParamtypes.BODY (an enum not exported from the package root). */
const BODY_PARAMTYPE = 3;

/** One HTTP endpoint as Nest serves it, read from the controllers' decorator metadata. */
export interface DiscoveredRoute {
  method: string;
  /** OpenAPI style: /v1/apps/{app} */
  path: string;
  controller: string;
  handler: string;
  status: number;
  pathParams: string[];
  guarded: boolean;
  /** The zod schema its body is validated with (ZodBodyPipe), if any. */
  bodySchema?: z.ZodType;
}

const join = (...parts: string[]) => '/' + parts.flatMap((p) => p.split('/')).filter(Boolean).join('/');
const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : ['/']);

function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

/** The body schema of a handler: the `schema` a ZodBodyPipe on its @Body() parameter holds. */
function bodySchemaOf(controller: object, handler: string): z.ZodType | undefined {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<string, { pipes?: unknown[] }>;
  for (const [key, arg] of Object.entries(args)) {
    if (Number(key.split(':')[0]) !== BODY_PARAMTYPE) continue;
    for (const pipe of arg.pipes ?? []) {
      const schema: unknown = typeof pipe === 'object' && pipe !== null ? Reflect.get(pipe, 'schema') : undefined;
      if (isZodSchema(schema)) return schema;
    }
  }
  return undefined;
}

/** Every route of the given controller classes, in declaration order. */
export function discoverRoutes(controllers: Array<abstract new (...args: never[]) => unknown>): DiscoveredRoute[] {
  const out: DiscoveredRoute[] = [];
  for (const controller of controllers) {
    const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller));
    const classGuards = (Reflect.getMetadata(GUARDS_METADATA, controller) ?? []) as unknown[];
    const proto = controller.prototype as Record<string, unknown>;
    for (const handler of Object.getOwnPropertyNames(proto)) {
      if (handler === 'constructor' || typeof proto[handler] !== 'function') continue;
      const fn = proto[handler] as object;
      const subPaths = Reflect.getMetadata(PATH_METADATA, fn) as unknown;
      if (subPaths === undefined) continue;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod;
      const method = RequestMethod[requestMethod] ?? 'GET';
      const methodGuards = (Reflect.getMetadata(GUARDS_METADATA, fn) ?? []) as unknown[];
      const status = (Reflect.getMetadata(HTTP_CODE_METADATA, fn) as number | undefined) ?? (method === 'POST' ? 201 : 200);
      for (const prefix of prefixes) {
        for (const sub of asList(subPaths)) {
          const raw = join(prefix, sub);
          const pathParams = [...raw.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
          out.push({
            method,
            path: raw.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
            controller: controller.name,
            handler,
            status,
            pathParams,
            guarded: classGuards.length + methodGuards.length > 0,
            bodySchema: bodySchemaOf(controller, handler),
          });
        }
      }
    }
  }
  return out;
}
