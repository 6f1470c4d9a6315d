import type { Command } from 'commander';
import { ApiError, type LogEntry } from '@paas/api-client';
import { Context, UsageError } from '../context';
import type { Colors } from '../ui/terminal';
import { getApp } from './apps';

/** `2024-05-01T12:00:00.123Z [APP/PROC/WEB/0] OUT text`, the tag coloured by source, ERR lines red. Pure. */
export function formatLogLine(entry: LogEntry, color: Colors): string {
  const kind = entry.source.split('/')[0];
  const tagColor = kind === 'APP' ? color.cyan : kind === 'STG' ? color.magenta : kind === 'RTR' ? color.dim : color.yellow;
  const text = entry.stream === 'ERR' ? color.red(entry.text) : entry.text;
  return `${color.dim(entry.timestamp)} ${tagColor(`[${entry.source}]`)} ${entry.stream} ${text}`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Follows an app's log until `signal` aborts: the last `recent` lines first, then new ones as they
 * come. When the connection drops (or the server ends the stream) it reconnects, resuming after
 * the last entry it printed (Last-Event-ID), so nothing is lost or printed twice; waits grow from
 * 0.5 s to 10 s while reconnecting fails. `print` gets each entry; `note` the reconnect notices.
 */
export async function followLogs(
  ctx: Context,
  appId: string,
  options: { recent: number; signal: AbortSignal; print: (entry: LogEntry) => void; note: (text: string) => void },
): Promise<void> {
  const api = await ctx.api();
  let since: string | undefined;
  let failures = 0;
  let connected = false;
  while (!options.signal.aborted) {
    try {
      for await (const entry of api.streamLogs(appId, { since, recent: since === undefined ? options.recent : undefined, signal: options.signal })) {
        connected = true;
        failures = 0;
        since = entry.id;
        options.print(entry);
      }
    } catch (error) {
      if (options.signal.aborted) return;
      // The stream cannot be opened at all (no such app, no right, no logs endpoint): reconnecting will not help.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) throw error;
      failures++;
      options.note(`log stream unavailable (${(error as Error).message}); retrying`);
    }
    if (options.signal.aborted) return;
    if (connected) options.note(`log stream interrupted; resuming${since ? ` after ${since}` : ''}`);
    connected = false;
    await sleep(Math.min(10_000, 500 * 2 ** Math.min(failures, 5)), options.signal);
  }
}

export function registerLogs(program: Command, ctx: Context): void {
  program
    .command('logs <name>')
    .description("an app's log (its instances, staging, router, cell and API lines): follows it until Ctrl-C, or --recent")
    .option('-r, --recent', 'print the recent lines and exit')
    .option('-n, --lines <n>', 'how many recent lines (with --recent, or before following)', '100')
    .option('--json', '--recent: the entries as a JSON array; following: one JSON entry per line')
    .action(async (name: string, o: { recent?: boolean; lines: string; json?: boolean }) => {
      const lines = Number(o.lines);
      if (!Number.isInteger(lines) || lines < 0 || lines > 10_000) throw new UsageError(`-n must be a number of lines from 0 to 10000 (got "${o.lines}")`);
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      if (o.recent) {
        const entries = await api.recentLogs(app.id, lines);
        if (o.json) return ctx.json(entries);
        for (const entry of entries) ctx.print(formatLogLine(entry, ctx.color));
        return;
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await followLogs(ctx, app.id, {
          recent: lines,
          signal: stop.signal,
          print: (entry) => ctx.print(o.json ? JSON.stringify(entry) : formatLogLine(entry, ctx.color)),
          note: (text) => ctx.note(ctx.errColor.dim(text)),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
