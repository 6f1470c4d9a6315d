import type { ActualInstance, CellPresence } from '@paas/contracts';

/** Crash history of one instance index: drives the restart backoff. */
export interface CrashHistory {
  count: number;
  lastCrashAt: number;
  lastInstanceId: string;
  reason: string;
}

/** What should run: `instances` indexes of one process type of an app's current release. */
export interface DesiredProcess {
  appId: string;
  processType: string;
  instances: number;
  /**
   * The app's current release. Where an index has several instances (a deploy just ended and the
   * old one's stop is still on its way), the one of this release is kept.
   */
  releaseId?: string;
}

export interface ConvergenceInput {
  desired: DesiredProcess;
  actual: readonly ActualInstance[];
  cells: ReadonlyMap<string, CellPresence>;
  crashes: ReadonlyMap<number, CrashHistory>;
  now: number;
}

/** The buckets of one convergence pass for one process type (like Diego's BBS convergence). */
export interface ConvergencePlan {
  /** Indexes with no instance at all (or only on draining cells): start one. */
  start: Array<{ index: number; reason: 'missing' | 'crashed' | 'evacuating' | 'cell-lost' }>;
  /** Indexes that crashed but must wait (backoff); `until` is epoch ms. */
  waiting: Array<{ index: number; until: number }>;
  /** Instances to stop: extra indexes, duplicates, ones on draining cells once replaced. */
  stop: Array<{ instance: ActualInstance; reason: string }>;
  /** Records to drop: instances on lost cells, crashed ones (after being counted). */
  forget: ActualInstance[];
  /** New crash histories to store (a crashed instance seen for the first time). */
  crashed: Array<{ index: number; history: CrashHistory }>;
  /** Indexes running healthy long enough to forget their crash history. */
  resetCrashes: number[];
}

/** Restarts right away for the first crashes, then waits doubling times, capped. */
export const IMMEDIATE_RESTARTS = 3;
export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_CAP_MS = 60_000;
/** Running this long without a crash resets an index's crash count. */
export const HEALTHY_STRETCH_MS = 60_000;
/**
 * A STOPPING record this old means its cell's stop failed (a stop ends within its 10 s grace
 * period, a forced kill and the cleanup): the stop is asked for again.
 */
export const STOP_OVERDUE_MS = 60_000;

export function restartDelayMs(crashCount: number): number {
  if (crashCount <= IMMEDIATE_RESTARTS) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** (crashCount - IMMEDIATE_RESTARTS - 1), BACKOFF_CAP_MS);
}

/**
 * One convergence pass for one process type: compares desired with actual and returns what to
 * do. Pure: the caller applies the plan. An index counts as present when a non-crashed instance of
 * it runs on a live cell (a STOPPING one does not: it is on its way out); instances on lost cells are forgotten and replaced; crashed ones are
 * restarted after their backoff; instances on draining cells are replaced elsewhere first and
 * stopped only once their replacement runs.
 */
export function planConvergence(input: ConvergenceInput): ConvergencePlan {
  const { desired, actual, cells, crashes, now } = input;
  const plan: ConvergencePlan = { start: [], waiting: [], stop: [], forget: [], crashed: [], resetCrashes: [] };
  const byIndex = new Map<number, ActualInstance[]>();
  const crashedAt = new Map<number, ActualInstance>();
  const lostAt = new Set<number>();

  for (const instance of actual) {
    if (instance.processType !== desired.processType) continue;
    if (!cells.has(instance.cellId)) {
      plan.forget.push(instance);
      lostAt.add(instance.index);
      continue;
    }
    if (instance.state === 'CRASHED') {
      plan.forget.push(instance);
      crashedAt.set(instance.index, instance);
      const history = crashes.get(instance.index);
      if (!history || history.lastInstanceId !== instance.instanceId) {
        plan.crashed.push({
          index: instance.index,
          history: {
            count: (history?.count ?? 0) + 1,
            lastCrashAt: Date.parse(instance.since) || now,
            lastInstanceId: instance.instanceId,
            reason: instance.reason ?? 'crashed',
          },
        });
      }
      continue;
    }
    if (instance.state === 'STOPPED') continue;
    // Going away: neither present nor to be replaced twice; asked again when its stop is overdue.
    if (instance.state === 'STOPPING') {
      if (now - Date.parse(instance.since) > STOP_OVERDUE_MS) plan.stop.push({ instance, reason: `${instance.reason ?? 'stop'}: its stop did not finish, asked again` });
      continue;
    }
    const list = byIndex.get(instance.index) ?? [];
    list.push(instance);
    byIndex.set(instance.index, list);
  }

  const draining = (i: ActualInstance) => cells.get(i.cellId)?.state === 'draining';

  for (let index = 0; index < desired.instances; index++) {
    const present = byIndex.get(index) ?? [];
    const settled = present.filter((i) => !draining(i));
    if (present.length === 0) {
      const fresh = plan.crashed.find((c) => c.index === index)?.history;
      const history = fresh ?? crashes.get(index);
      if (crashedAt.has(index) || (history && now - history.lastCrashAt < HEALTHY_STRETCH_MS)) {
        const until = (history?.lastCrashAt ?? now) + restartDelayMs(history?.count ?? 1);
        if (until > now) plan.waiting.push({ index, until });
        else plan.start.push({ index, reason: 'crashed' });
      } else {
        plan.start.push({ index, reason: lostAt.has(index) ? 'cell-lost' : 'missing' });
      }
      continue;
    }
    if (settled.length === 0) {
      plan.start.push({ index, reason: 'evacuating' });
      continue;
    }
    const running = settled.filter((i) => i.state === 'RUNNING');
    const current = (i: ActualInstance) => desired.releaseId === undefined || i.releaseId === desired.releaseId;
    const keep = running.find(current) ?? running[0] ?? settled.find(current) ?? settled[0];
    for (const other of settled) if (other !== keep) plan.stop.push({ instance: other, reason: 'duplicate instance' });
    if (running.length > 0) {
      for (const leaving of present.filter(draining)) plan.stop.push({ instance: leaving, reason: 'cell draining: replaced elsewhere' });
    }
    const history = crashes.get(index);
    if (history && keep.state === 'RUNNING' && now - Date.parse(keep.since) > HEALTHY_STRETCH_MS) plan.resetCrashes.push(index);
  }

  for (const [index, list] of byIndex) {
    if (index >= desired.instances) for (const extra of list) plan.stop.push({ instance: extra, reason: 'scaled down' });
  }
  return plan;
}
