/**
 * The jobs a cell's queue holds (BullMQ keeps the last 1000 done and failed ones, see
 * CellQueuesService): what the controller asked a cell to do, and what the cell answered, read
 * back for specs that run the real cell agent.
 */
import { Queue } from 'bullmq';
import { redisKeys } from '@paas/contracts';
import { createRedisConnection } from '@paas/redis';

/** One job of a cell's queue: its name (CellJobName), its data as sent, and what the cell answered (once done). */
export interface CellJob {
  name: string;
  data: Record<string, unknown>;
  result?: unknown;
}

const EVERY_STATE = ['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'] as const;

/**
 * Every job of cell `cellId`'s queue, waiting, active, done or failed (or those in `states`, e.g.
 * ['active']: taken by the cell, not answered), oldest first; `name` keeps those of one CellJobName.
 */
export async function cellJobs(
  h: { redisUrl: string; redisPrefix: string },
  cellId: string,
  name?: string,
  states: ReadonlyArray<(typeof EVERY_STATE)[number]> = EVERY_STATE,
): Promise<CellJob[]> {
  const connection = createRedisConnection(h.redisUrl, `test-jobs-${cellId}`);
  const queue = new Queue(redisKeys(h.redisPrefix).cellQueue(cellId), { connection });
  try {
    const jobs = await queue.getJobs([...states]);
    return jobs
      .filter((job) => job !== undefined && (name === undefined || job.name === name))
      .sort((a, b) => a.timestamp - b.timestamp || Number(a.id) - Number(b.id))
      .map((job) => ({ name: job.name, data: job.data as Record<string, unknown>, ...(job.returnvalue != null ? { result: job.returnvalue as unknown } : {}) }));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
