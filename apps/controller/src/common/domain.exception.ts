/**
 * Codes of every error the controller reports, mapped to HTTP in one place (http-exception.filter).
 * The message always says what went wrong and how to fix it.
 */
export const ErrorCode = {
  ValidationFailed: 'validation-failed',
  Unauthenticated: 'unauthenticated',
  NotFound: 'not-found',
  AppNotFound: 'app-not-found',
  AppNameTaken: 'app-name-taken',
  NoCellAvailable: 'no-cell-available',
  StagingFailed: 'staging-failed',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DomainException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainException';
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.NotFound:
    case ErrorCode.AppNotFound:
      return 404;
    case ErrorCode.AppNameTaken:
      return 409;
    case ErrorCode.NoCellAvailable:
    case ErrorCode.StagingFailed:
      return 422;
    case ErrorCode.Internal:
      return 500;
  }
}
