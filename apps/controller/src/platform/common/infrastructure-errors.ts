/**
 * Which backing service an error says is out of reach: Postgres (Prisma's P1001 "can't reach",
 * P1002 timeout, P1017 "server closed the connection", P2024 pool timeout, a driver adapter's
 * DatabaseNotReachable, or pg's socket errors) or Redis (ioredis's closed connection and retry
 * errors, and a fail-fast connection's command timeout). Anything else is undefined: a bug, not an outage. Pure.
 */
export type UnavailableService = 'database' | 'redis';

const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const ADAPTER_UNREACHABLE = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
/** Postgres SQLSTATEs of a server going away or refusing new work: admin shutdown, crash, cannot connect now. */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);

export function unavailableService(error: unknown, depth = 0): UnavailableService | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const e = error as { name?: unknown; code?: unknown; errorCode?: unknown; message?: unknown; kind?: unknown; cause?: unknown; meta?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (name.startsWith('PrismaClient')) {
    if (name === 'PrismaClientInitializationError' || name === 'PrismaClientRustPanicError') return 'database';
    if (typeof e.code === 'string' && PRISMA_UNREACHABLE.has(e.code)) return 'database';
    if (typeof e.errorCode === 'string' && PRISMA_UNREACHABLE.has(e.errorCode)) return 'database';
    const adapter = (e.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
    if (adapter && fromAdapter(adapter)) return 'database';
    if (/can't reach database server|server has closed the connection|connection (?:terminated|refused)/i.test(message)) return 'database';
  }
  if (name === 'DriverAdapterError' && fromAdapter(error)) return 'database';
  if (name === 'MaxRetriesPerRequestError' || /^Connection is closed\.?$|^Command timed out$|Stream isn't writeable and enableOfflineQueue options is false/.test(message)) return 'redis';
  if (typeof e.code === 'string' && PG_UNAVAILABLE.has(e.code)) return 'database';
  return unavailableService(e.cause, depth + 1);
}

function fromAdapter(adapter: unknown): boolean {
  const cause = (adapter as { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown } }).cause;
  if (!cause) return false;
  if (typeof cause.kind === 'string' && ADAPTER_UNREACHABLE.has(cause.kind)) return true;
  const code = typeof cause.originalCode === 'string' ? cause.originalCode : typeof cause.code === 'string' ? cause.code : '';
  return SOCKET_CODES.has(code) || PG_UNAVAILABLE.has(code);
}
