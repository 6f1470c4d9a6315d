import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { ErrorBody } from '@paas/contracts';
import { LOGGER, type Logger } from '../config/config.module';
import { DomainException, ErrorCode, httpStatusOf } from './domain.exception';

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
      const code = status === 404 ? ErrorCode.NotFound : status === 401 ? ErrorCode.Unauthenticated : `http-${status}`;
      const message =
        status === 404 ? 'no such API endpoint: see docs/api.md for the routes the controller serves' : exception.message;
      return { status, body: { error: { code, message } } };
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, 'unhandled error');
    return {
      status: 500,
      body: { error: { code: ErrorCode.Internal, message: `internal error ${errorId}: see the controller's log` } },
    };
  }

  private body(e: DomainException): ErrorBody {
    return { error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } };
  }
}
