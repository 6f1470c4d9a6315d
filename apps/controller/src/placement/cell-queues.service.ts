import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import {
  CellJobName,
  jobId,
  type ForgetAppJob,
  type RunTaskJob,
  type StageJob,
  type StartInstanceJob,
  type StopInstanceJob,
  type StopTaskJob,
} from '@paas/contracts';
import { listAnnouncedCells } from '@paas/redis';
import { RedisService } from '../platform/redis/redis.module';

/** Sends work to one cell's own BullMQ queue, with deterministic job ids so nothing is queued twice. */
@Injectable()
export class CellQueuesService implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly redis: RedisService) {}

  private queue(cellId: string): Queue {
    let queue = this.queues.get(cellId);
    if (!queue) {
      queue = new Queue(this.redis.keys.cellQueue(cellId), {
        connection: this.redis.redis,
        defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 1000, attempts: 1 },
      });
      this.queues.set(cellId, queue);
    }
    return queue;
  }

  async stage(cellId: string, job: StageJob): Promise<void> {
    await this.queue(cellId).add(CellJobName.Stage, job, { jobId: jobId.stage(job.buildId) });
  }

  /**
   * Withdraws a build's stage job from its cell's queue if the cell has not taken it yet: 'removed',
   * 'running' (the cell works on it; it ends within the cell's staging timeout) or 'absent'.
   */
  async withdrawStage(cellId: string, buildId: string): Promise<'removed' | 'running' | 'absent'> {
    const job = await this.queue(cellId).getJob(jobId.stage(buildId));
    if (!job) return 'absent';
    const state = await job.getState();
    if (state === 'active') return 'running';
    if (state === 'completed' || state === 'failed') return 'absent';
    try {
      await job.remove();
      return 'removed';
    } catch {
      // Taken by the cell meanwhile (a locked job cannot be removed).
      return 'running';
    }
  }

  /**
   * Where a build's stage job stands in its cell's queue: 'queued' (waiting or being staged),
   * 'completed' with the cell's result, 'failed' with the reason, or 'absent' (never added, or
   * lost with Redis's data). Waits while Redis is unreachable.
   */
  async stageJob(cellId: string, buildId: string): Promise<{ state: 'queued' | 'absent' } | { state: 'completed'; result: unknown } | { state: 'failed'; reason: string }> {
    const job = await this.queue(cellId).getJob(jobId.stage(buildId));
    if (!job) return { state: 'absent' };
    const state = await job.getState();
    if (state === 'completed') return { state, result: job.returnvalue };
    if (state === 'failed') return { state, reason: job.failedReason || 'the stage job failed on the cell' };
    if (state === 'unknown') return { state: 'absent' };
    return { state: 'queued' };
  }

  async startInstance(cellId: string, job: StartInstanceJob): Promise<void> {
    await this.queue(cellId).add(CellJobName.StartInstance, job, { jobId: jobId.start(job.instanceId) });
  }

  async stopInstance(cellId: string, job: StopInstanceJob): Promise<void> {
    await this.queue(cellId).add(CellJobName.StopInstance, job, { jobId: jobId.stop(job.instanceId) });
  }

  async runTask(cellId: string, job: RunTaskJob): Promise<void> {
    await this.queue(cellId).add(CellJobName.RunTask, job, { jobId: jobId.runTask(job.taskId) });
  }

  async stopTask(cellId: string, job: StopTaskJob): Promise<void> {
    await this.queue(cellId).add(CellJobName.StopTask, job, { jobId: jobId.stopTask(job.taskId) });
  }

  /**
   * Tells every cell that ever announced itself (live or not: a cell that is down takes the job
   * when it comes back) to drop what it keeps for a deleted app (its build cache).
   */
  async forgetApp(job: ForgetAppJob): Promise<number> {
    const cellIds = await listAnnouncedCells(this.redis.redis, this.redis.keys);
    for (const cellId of cellIds) await this.queue(cellId).add(CellJobName.ForgetApp, job, { jobId: jobId.forgetApp(job.appId) });
    return cellIds.length;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
