import type { ActualInstance, RunTaskResult } from '@paas/contracts';

/**
 * What a deployment tells its caller when something goes wrong: pure functions of what the cells
 * reported, so the words are tested without a cell.
 */

/** Where new instances of one batch stand. */
export type HealthVerdict = { kind: 'running' } | { kind: 'waiting'; running: number } | { kind: 'failed'; message: string };

/**
 * The verdict on the new instances `ids` of one process type, from the actual state: failed as soon
 * as one crashed (with the cell's reason: it carries the instance's last log lines), running when
 * all run, waiting otherwise.
 */
export function healthVerdict(actual: readonly ActualInstance[], ids: readonly string[], processType: string): HealthVerdict {
  const mine = actual.filter((i) => ids.includes(i.instanceId));
  const crashed = mine.find((i) => i.state === 'CRASHED');
  if (crashed) {
    const reason = crashed.reason ?? 'its cell gave no reason';
    // A health-check timeout is reported as a crash by the cell; say what really happened.
    const what = /^the app did not /.test(reason) ? 'did not become healthy' : 'crashed on start';
    return { kind: 'failed', message: `new ${processType} instance ${crashed.index} ${what}: ${reason}` };
  }
  const running = mine.filter((i) => i.state === 'RUNNING').length;
  return running === ids.length ? { kind: 'running' } : { kind: 'waiting', running };
}

/** When the cell never reported a verdict within the health timeout and its grace. */
export function healthTimeoutMessage(processType: string, indexes: readonly number[], timeoutS: number): string {
  return (
    `new ${processType} instance(s) ${indexes.join(', ')} did not become healthy within ${timeoutS}s and their cell reported no reason: ` +
    'check that the cells are alive (GET /v1/cells) and that the app listens on $PORT'
  );
}

/** The deployment's error when the release command did not succeed, with its last output lines. */
export function releaseCommandFailure(result: RunTaskResult, timeoutS: number): string {
  const why =
    result.reason === 'oom'
      ? ', out of memory: raise the web process memory (scale memory_mb) or make the command use less'
      : result.reason === 'timeout'
        ? `, timed out after ${timeoutS}s`
        : result.reason === 'canceled'
          ? ', stopped on its cell'
          : '';
  if (result.reason === 'error') return `release command could not run: ${result.error ?? 'the cell gave no reason'}`;
  const lines = result.lastLines.length ? result.lastLines.join(' | ') : 'it printed nothing';
  return `release command failed (exit ${result.exitCode}${why}): ${lines}`;
}

/** True when the release ran its command successfully. */
export function releaseCommandSucceeded(result: RunTaskResult): boolean {
  return result.exitCode === 0 && result.reason === undefined;
}

/** The release command of a release, when its process types have one (Procfile `release:`). */
export function releaseCommandOf(processTypes: unknown): string | undefined {
  const command = (processTypes as Record<string, unknown> | null)?.release;
  return typeof command === 'string' && command.trim() ? command.trim() : undefined;
}
