import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { ErrorBody } from '@paas/contracts';
import { LOGGER, type Logger } from '../config/config.module';
import { DomainException, ErrorCode, httpStatusOf } from './domain.exception';
import { unavailableService } from './infrastructure-errors';

/** Seconds a client waits before trying again while Postgres or Redis is out of reach. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/** The one mapper from errors to HTTP: `{"error": {"code", "message", "details"}}`. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.toResponse(exception);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (status === 503) res.setHeader('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
    res.status(status).json(body);
  }

  private toResponse(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof DomainException) {
      const status = httpStatusOf(exception.code);
      if (status === 401) return { status, body: this.body(exception) };
      return { status, body: this.body(exception) };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // 400 from the framework: a path parameter that is not valid percent-encoded UTF-8, a body that is not JSON.
      const code = status === 404 ? ErrorCode.NotFound : status === 401 ? ErrorCode.Unauthenticated : status === 400 ? ErrorCode.ValidationFailed : `http-${status}`;
      const message =
        status === 404 ? 'no such API endpoint: see docs/api.md for the routes the controller serves' : exception.message;
      return { status, body: { error: { code, message } } };
    }
    const down = unavailableService(exception);
    if (down) {
      const errorId = randomUUID();
      const cause = exception instanceof Error ? exception.message.trim().split('\n').pop() : String(exception);
      this.logger.warn({ errorId, cause }, down === 'database' ? 'database-unavailable' : 'redis-unavailable');
      const what = down === 'database' ? 'the database (Postgres)' : 'Redis';
      return {
        status: 503,
        body: {
          error: {
            code: down === 'database' ? ErrorCode.DatabaseUnavailable : ErrorCode.RedisUnavailable,
            message: `${what} is out of reach, so nothing was done: try again in ${UNAVAILABLE_RETRY_AFTER_S} s (error ${errorId}; an operator finds the cause in the controller's log)`,
          },
        },
      };
    }
    const errorId = randomUUID();
    this.logger.error({ event: 'request-failed', err: exception, errorId }, 'unhandled error');
    return {
      status: 500,
      body: { error: { code: ErrorCode.Internal, message: `internal error ${errorId}: see the controller's log` } },
    };
  }

  private body(e: DomainException): ErrorBody {
    return { error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } };
  }
}
