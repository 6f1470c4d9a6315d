import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { findTextProblems, textProblem, type TextProblem } from '@paas/contracts';
import { DomainException, ErrorCode } from './domain.exception';
import { ZodBodyPipe } from './zod-body.pipe';

const OWN_TEXT_CHECKS = 'paas:own-text-checks';

/** Marks a controller that checks its own path and query (the git endpoint answers git clients in text/plain). */
export const OwnTextChecks = (): ClassDecorator & MethodDecorator => SetMetadata(OWN_TEXT_CHECKS, true);

/**
 * The platform's text rule for path and query parameters, after authentication and before any
 * handler runs: a NUL, a lone surrogate or any control character in `:app` or `?names=` is a 400
 * naming the parameter, never a database error. Bodies are checked by ZodBodyPipe (so a field the
 * schema already refuses keeps its message); a body sent to such an endpoint as anything but JSON
 * is a 415 (it would otherwise be read as an empty body).
 */
@Injectable()
export class RequestTextInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && !this.reflector.getAllAndOverride<boolean>(OWN_TEXT_CHECKS, [context.getHandler(), context.getClass()])) {
      const req = context.switchToHttp().getRequest<Request>();
      if (hasBody(req) && !isJson(req.headers['content-type']) && takesJsonBody(context.getClass(), context.getHandler().name)) {
        throw new DomainException(
          ErrorCode.UnsupportedMediaType,
          `the body must be JSON: send it with "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? 'none')})`,
        );
      }
      const problems = [...lineProblems(req.params, 'path parameter'), ...lineProblems(req.query, 'query parameter')];
      if (problems.length > 0) {
        throw new DomainException(ErrorCode.ValidationFailed, problems.map((p) => `${p.field}: ${p.rule}`).join('; '), problems);
      }
    }
    return next.handle();
  }
}

/** Parameters are one line each: no control character at all, not even a tab or line break. */
function lineProblems(params: unknown, kind: string): TextProblem[] {
  if (!params || typeof params !== 'object') return [];
  const out: TextProblem[] = [];
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    const values = Array.isArray(value) ? value : [value];
    const nameRule = textProblem(name, true);
    if (nameRule) {
      out.push(...findTextProblems({ [name]: '' }).map((p) => ({ field: p.field, rule: `a ${kind}: ${p.rule}` })));
      continue;
    }
    for (const v of values) {
      const rule = typeof v === 'string' ? textProblem(v, true) : findTextProblems(v, name)[0]?.rule;
      if (rule) {
        out.push({ field: name, rule: `a ${kind} ${rule}` });
        break;
      }
    }
  }
  return out;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Nest's RouteParamtypes.BODY (an enum not exported from the package root). */
const BODY_PARAMTYPE = 3;

/** True when the handler's @Body() goes through a ZodBodyPipe: it takes a JSON body. */
function takesJsonBody(controller: object, handler: string): boolean {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<string, { pipes?: unknown[] }>;
  return Object.entries(args).some(([key, arg]) => Number(key.split(':')[0]) === BODY_PARAMTYPE && (arg.pipes ?? []).some((p) => p instanceof ZodBodyPipe));
}
