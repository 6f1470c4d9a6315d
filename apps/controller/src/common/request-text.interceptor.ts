import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { findTextProblems, textProblem, type TextProblem } from '@paas/contracts';
import { DomainException, ErrorCode } from './domain.exception';

const OWN_TEXT_CHECKS = 'paas:own-text-checks';

/** Marks a controller that checks its own path and query (the git endpoint answers git clients in text/plain). */
export const OwnTextChecks = (): ClassDecorator & MethodDecorator => SetMetadata(OWN_TEXT_CHECKS, true);

/**
 * The platform's text rule for path and query parameters, after authentication and before any
 * handler runs: a NUL, a lone surrogate or any control character in `:app` or `?names=` is a 400
 * naming the parameter, never a database error. Bodies are checked by ZodBodyPipe (so a field the
 * schema already refuses keeps its message).
 */
@Injectable()
export class RequestTextInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && !this.reflector.getAllAndOverride<boolean>(OWN_TEXT_CHECKS, [context.getHandler(), context.getClass()])) {
      const req = context.switchToHttp().getRequest<Request>();
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
