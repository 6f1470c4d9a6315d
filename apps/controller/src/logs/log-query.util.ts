import { APP_LOG_RECENT_DEFAULT, APP_LOG_RECENT_MAX, LOG_SSE_EVENT, STREAM_ID_PATTERN, type LogEntry } from '@paas/contracts';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/** Where a log stream starts: after a stream id (resume), or at the end with the last `recent` lines first. */
export type StreamStart = { kind: 'after'; id: string } | { kind: 'tail'; recent: number };

function invalid(field: string, rule: string, got: unknown): DomainException {
  return new DomainException(ErrorCode.ValidationFailed, `${field}: ${rule} (got ${JSON.stringify(got)})`, [{ field, rule }]);
}

/** A whole number in [min, max] from a query value; `fallback` when absent. */
function intParam(query: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' && /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(name, `must be a whole number from ${min} to ${max}`, raw);
  return value;
}

/** A stream id (`1700000000000-0`); `0` means "from the oldest line kept". Undefined when absent. */
function streamIdParam(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(field, 'must be one log entry id', value);
  if (value === '0') return '0-0';
  if (!STREAM_ID_PATTERN.test(value)) throw invalid(field, 'must be the id of a log entry, like 1700000000000-0 (or 0 for the oldest line kept)', value);
  return value;
}

/** `GET /v1/apps/:app/logs`: `?limit=` (1..1000, default 100) and optionally `?since=<id>` (the lines after it). */
export function parseRecentQuery(query: Record<string, unknown>): { limit: number; since?: string } {
  const limit = intParam(query, 'limit', APP_LOG_RECENT_DEFAULT, 1, APP_LOG_RECENT_MAX);
  const since = streamIdParam(query.since, 'since');
  return since ? { limit, since } : { limit };
}

/**
 * `GET /v1/apps/:app/logs/stream`: the `Last-Event-ID` header (a reconnecting EventSource sends
 * it) wins over `?since=`; either resumes right after that entry. Without them, or with
 * `since=$`, only new lines come, after the last `?recent=N` (0..1000, default 0) lines.
 */
export function parseStreamStart(lastEventId: string | string[] | undefined, query: Record<string, unknown>): StreamStart {
  const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  const resumed = streamIdParam(header?.trim() || undefined, 'Last-Event-ID');
  if (resumed) return { kind: 'after', id: resumed };
  const since = query.since === '$' ? undefined : streamIdParam(query.since, 'since');
  if (since) return { kind: 'after', id: since };
  return { kind: 'tail', recent: intParam(query, 'recent', 0, 0, APP_LOG_RECENT_MAX) };
}

/** One log entry as a server-sent event: its stream id as `id:` (what Last-Event-ID resumes after), JSON data on one line. */
export function sseLogEvent(entry: LogEntry): string {
  return `id: ${entry.id}\nevent: ${LOG_SSE_EVENT}\ndata: ${JSON.stringify(entry)}\n\n`;
}

/** A comment line: keeps idle connections (and proxies) alive; clients ignore it. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}
