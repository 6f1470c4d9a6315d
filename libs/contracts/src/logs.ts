import { z } from 'zod';

/**
 * App logs: one Redis stream per app (`redisKeys(prefix).appLogs(appId)`), written by the cells
 * (instance output, lifecycle), the routers (access lines) and the controller (staging, release
 * command, API changes); read by the controller's logs API. This file is the contract between
 * those writers and readers: the stream entry's fields, the source tags and the API's entry.
 */

/** Which output a line came from: the process's stdout (OUT) or stderr (ERR), as Cloud Foundry says. */
export const logStreamSchema = z.enum(['OUT', 'ERR']);
export type LogStream = z.infer<typeof logStreamSchema>;

/**
 * One line of an app's log, as `GET /v1/apps/:app/logs` and its event stream answer it.
 * `id` is the Redis stream id (`<ms>-<seq>`): entries are ordered by it, and a stream resumes after
 * it. `timestamp` (ISO) is the time the line reached the log store (the id's milliseconds): one
 * clock for every writer, so timestamps follow the order of the entries. `source` is a Cloud
 * Foundry tag (see logSource).
 */
export const logEntrySchema = z.object({
  id: z.string(),
  timestamp: z.string(),
  source: z.string(),
  stream: logStreamSchema,
  text: z.string(),
});
export type LogEntry = z.infer<typeof logEntrySchema>;

/** `GET /v1/apps/:app/logs`: entries oldest first. */
export const logEntriesResponseSchema = z.object({ resources: z.array(logEntrySchema) });
export type LogEntriesResponse = z.infer<typeof logEntriesResponseSchema>;

/** The `event:` of each log entry on the SSE stream (`GET /v1/apps/:app/logs/stream`). */
export const LOG_SSE_EVENT = 'log';

/** A longer line is cut to this many characters (and marked as cut). */
export const LOG_LINE_MAX_CHARS = 8192;
/** What a cut line ends with. */
export const LOG_LINE_CUT_MARK = ' [line cut]';
/** Default number of lines kept per app (`MAXLEN ~`, so a few more may stay). */
export const APP_LOG_DEFAULT_MAX_LINES = 5000;
/** Default idle time after which an app's stream expires (refreshed on every write): 7 days. */
export const APP_LOG_DEFAULT_TTL_S = 7 * 24 * 3600;
/** Default lines per second and per app a cell (or a router) writes; the rest is dropped and counted. */
export const APP_LOG_DEFAULT_RATE = 200;
/** Default burst above the rate (token bucket size). */
export const APP_LOG_DEFAULT_BURST = 1000;
/** `?limit` of GET /v1/apps/:app/logs: default and maximum. */
export const APP_LOG_RECENT_DEFAULT = 100;
export const APP_LOG_RECENT_MAX = 1000;

/**
 * Source tags, as Cloud Foundry's: `APP/PROC/<TYPE>/<index>` an instance's output,
 * `APP/TASK/<NAME>/0` a task's (the release command), `STG/0` staging, `RTR/<n>` router access
 * lines, `CELL/<index>` an instance's lifecycle on its cell, `API/0` changes made through the API.
 */
export const logSource = {
  app: (processType: string, index: number) => `APP/PROC/${processType.toUpperCase()}/${index}`,
  task: (name: string) => `APP/TASK/${name.toUpperCase()}/0`,
  staging: 'STG/0',
  router: (index = 0) => `RTR/${index}`,
  cell: (index = 0) => `CELL/${index}`,
  api: 'API/0',
} as const;

/** The line as stored: without a trailing carriage return, at most LOG_LINE_MAX_CHARS (colour codes stay). */
export function cutLogLine(text: string): string {
  const clean = text.endsWith('\r') ? text.slice(0, -1) : text;
  return clean.length > LOG_LINE_MAX_CHARS ? `${clean.slice(0, LOG_LINE_MAX_CHARS)}${LOG_LINE_CUT_MARK}` : clean;
}

/**
 * The fields of one stream entry (XADD ... <fields>): `t` the writer's clock (ms; kept for
 * operators, the API's timestamp is the id's), `src` the source tag, `s` OUT|ERR, `m` the text.
 */
export function appLogFields(line: { source: string; stream: LogStream; text: string; at: number }): string[] {
  return ['t', String(line.at), 'src', line.source, 's', line.stream, 'm', cutLogLine(line.text)];
}

/** A stream id as Redis writes them (`<ms>-<seq>`). */
export const STREAM_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

/** The milliseconds part of a stream id. */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Orders two stream ids (negative when a comes first). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am! < bm! ? -1 : 1;
  if (as !== bs) return as! < bs! ? -1 : 1;
  return 0;
}

/** The API entry of one stream entry (XRANGE/XREAD reply: id and flat field list); undefined when it is not a log line. */
export function logEntryOf(id: string, fields: readonly string[]): LogEntry | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const stream = map.get('s');
  const source = map.get('src');
  const text = map.get('m');
  if ((stream !== 'OUT' && stream !== 'ERR') || source === undefined || text === undefined || !STREAM_ID_PATTERN.test(id)) return undefined;
  return { id, timestamp: new Date(streamIdMs(id)).toISOString(), source, stream, text };
}

/**
 * Environment of every process that writes app logs (controller, cells, routers), parsed with its
 * own config: how many lines a stream keeps, when an idle one expires, and the per-app rate limit
 * of a cell's instance output and a router's access lines.
 */
export const appLogEnvShape = {
  /** Lines kept per app (approximately: Redis trims whole nodes). */
  PAAS_APP_LOG_MAX_LINES: z.coerce
    .number({ error: 'PAAS_APP_LOG_MAX_LINES must be a whole number of lines' })
    .int()
    .min(100, { error: 'PAAS_APP_LOG_MAX_LINES must be at least 100' })
    .max(1_000_000, { error: 'PAAS_APP_LOG_MAX_LINES must be at most 1000000' })
    .default(APP_LOG_DEFAULT_MAX_LINES),
  /** An app's stream with no new line for this long is deleted; 0 keeps it until the app is deleted. */
  PAAS_APP_LOG_TTL_S: z.coerce.number({ error: 'PAAS_APP_LOG_TTL_S must be a number of seconds' }).int().min(0).default(APP_LOG_DEFAULT_TTL_S),
  /** Lines per second and per app one cell (or router) writes; more are dropped, with a marker line. */
  PAAS_APP_LOG_RATE_LIMIT: z.coerce.number({ error: 'PAAS_APP_LOG_RATE_LIMIT must be lines per second' }).positive().default(APP_LOG_DEFAULT_RATE),
  /** Lines an app may write at once above the rate (the token bucket's size). */
  PAAS_APP_LOG_BURST: z.coerce.number({ error: 'PAAS_APP_LOG_BURST must be a number of lines' }).int().min(1).default(APP_LOG_DEFAULT_BURST),
};

/** What a writer of app logs needs from its config. */
export interface AppLogSettings {
  maxLines: number;
  /** 0: no expiry. */
  ttlSeconds: number;
  ratePerSecond: number;
  burst: number;
}

export function appLogSettings(c: {
  PAAS_APP_LOG_MAX_LINES: number;
  PAAS_APP_LOG_TTL_S: number;
  PAAS_APP_LOG_RATE_LIMIT: number;
  PAAS_APP_LOG_BURST: number;
}): AppLogSettings {
  return { maxLines: c.PAAS_APP_LOG_MAX_LINES, ttlSeconds: c.PAAS_APP_LOG_TTL_S, ratePerSecond: c.PAAS_APP_LOG_RATE_LIMIT, burst: c.PAAS_APP_LOG_BURST };
}

export const DEFAULT_APP_LOG_SETTINGS: AppLogSettings = {
  maxLines: APP_LOG_DEFAULT_MAX_LINES,
  ttlSeconds: APP_LOG_DEFAULT_TTL_S,
  ratePerSecond: APP_LOG_DEFAULT_RATE,
  burst: APP_LOG_DEFAULT_BURST,
};
