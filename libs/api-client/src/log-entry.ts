import { logEntriesResponseSchema, logEntrySchema, type LogEntry } from '@paas/contracts';

/**
 * One line of an app's log as GET /v1/apps/:app/logs and its event stream answer it: the logs
 * module's contract (libs/contracts logs.ts), re-exported under the client's names.
 */
export const logEntryViewSchema = logEntrySchema;
export type { LogEntry };
export const logListSchema = logEntriesResponseSchema;
