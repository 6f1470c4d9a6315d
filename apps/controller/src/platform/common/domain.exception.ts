/**
 * Codes of every error the controller reports, mapped to HTTP in one place (http-exception.filter).
 * The message always says what went wrong and how to fix it.
 */
export const ErrorCode = {
  ValidationFailed: 'validation-failed',
  /** A body that is not JSON where the endpoint takes JSON. */
  UnsupportedMediaType: 'unsupported-media-type',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  NotFound: 'not-found',
  AppNotFound: 'app-not-found',
  NameTaken: 'name-taken',
  AppNameTaken: 'app-name-taken',
  RouteTaken: 'route-taken',
  /** The host has routes of another space: a host belongs to one space. */
  HostTaken: 'host-taken',
  /** The domain, or one inside or above it, was verified by another org (pending claims of other orgs hold nothing). */
  DomainHeld: 'domain-held',
  /** An org's own domain whose control is not proven yet: no routes on it (POST /v1/domains/:id/verify). */
  DomainNotVerified: 'domain-not-verified',
  /** The HTTP token or the TXT record did not prove control of the domain (the message says what was found). */
  DomainVerificationFailed: 'domain-verification-failed',
  DeploymentInProgress: 'deployment-in-progress',
  DeploymentNotRunning: 'deployment-not-running',
  DeploymentCanceled: 'deployment-canceled',
  ReleasePruned: 'release-pruned',
  ReleaseCommandFailed: 'release-command-failed',
  Unprocessable: 'unprocessable',
  /** A name that names several resources the caller sees (service instances of several spaces): say which. */
  AmbiguousName: 'ambiguous-name',
  /** A service instance that apps are bound to cannot be deleted. */
  ServiceInstanceInUse: 'service-instance-in-use',
  /** A service instance whose create has not succeeded (or that is being deleted) cannot be bound. */
  ServiceInstanceNotReady: 'service-instance-not-ready',
  AlreadyBound: 'already-bound',
  /** A service instance's server did not answer the controller: nothing was changed; try again. */
  ServiceUnreachable: 'service-unreachable',
  /** A service broker did not answer, or refused or garbled what it was asked (the message names it). */
  BrokerFailed: 'broker-failed',
  NoCellAvailable: 'no-cell-available',
  /** An uploaded certificate or key that is not PEM (or an encrypted key). */
  CertificateUnreadable: 'certificate-unreadable',
  /** The private key is not the key of the leaf certificate. */
  CertificateKeyMismatch: 'certificate-key-mismatch',
  /** A certificate of the chain is not signed by the next, or the chain does not end at a root. */
  CertificateChainIncomplete: 'certificate-chain-incomplete',
  CertificateExpired: 'certificate-expired',
  CertificateNotYetValid: 'certificate-not-yet-valid',
  /** An RSA key under 2048 bits. */
  CertificateWeakKey: 'certificate-weak-key',
  /** A name the caller may not cover: not on a verified domain of its org, or (ACME) a wildcard. */
  CertificateNameRefused: 'certificate-name-refused',
  /** The operator did not configure what the request needs (PAAS_SECRET_KEY_FILE, PAAS_ACME_DIRECTORY_URL): the message names it. */
  NotConfigured: 'not-configured',
  StagingFailed: 'staging-failed',
  /** Postgres is out of reach: nothing was done; try again after Retry-After seconds. */
  DatabaseUnavailable: 'database-unavailable',
  /** Redis is out of reach: nothing was done; try again after Retry-After seconds. */
  RedisUnavailable: 'redis-unavailable',
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
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
    case ErrorCode.AppNotFound:
      return 404;
    case ErrorCode.NameTaken:
    case ErrorCode.AppNameTaken:
    case ErrorCode.RouteTaken:
    case ErrorCode.HostTaken:
    case ErrorCode.DomainHeld:
    case ErrorCode.DeploymentInProgress:
    case ErrorCode.DeploymentNotRunning:
    case ErrorCode.DeploymentCanceled:
    case ErrorCode.AmbiguousName:
    case ErrorCode.ServiceInstanceInUse:
    case ErrorCode.ServiceInstanceNotReady:
    case ErrorCode.AlreadyBound:
      return 409;
    case ErrorCode.ReleasePruned:
      return 410;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.Unprocessable:
    case ErrorCode.DomainNotVerified:
    case ErrorCode.DomainVerificationFailed:
    case ErrorCode.NoCellAvailable:
    case ErrorCode.CertificateUnreadable:
    case ErrorCode.CertificateKeyMismatch:
    case ErrorCode.CertificateChainIncomplete:
    case ErrorCode.CertificateExpired:
    case ErrorCode.CertificateNotYetValid:
    case ErrorCode.CertificateWeakKey:
    case ErrorCode.CertificateNameRefused:
    case ErrorCode.NotConfigured:
    case ErrorCode.StagingFailed:
    case ErrorCode.ReleaseCommandFailed:
      return 422;
    case ErrorCode.DatabaseUnavailable:
    case ErrorCode.RedisUnavailable:
    case ErrorCode.ServiceUnreachable:
      return 503;
    case ErrorCode.BrokerFailed:
      return 502;
    case ErrorCode.Internal:
      return 500;
  }
}

/** A 404 that names what was looked for; the same answer whether it does not exist or may not be seen. */
export function notFound(kind: string, id: string, hint = ''): DomainException {
  return new DomainException(ErrorCode.NotFound, `no ${kind} ${id}${hint ? `: ${hint}` : ''}`);
}
