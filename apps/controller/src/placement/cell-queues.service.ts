import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import {
  CellJobName,
  jobId,
  serviceJobId,
  type DeleteServiceJob,
  type ForgetAppJob,
  type RestoreServiceJob,
  type RunTaskJob,
  type StageJob,
  type StartInstanceJob,
  type StartServiceJob,
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
   * Queues a service instance's start-service job (jobId serviceJobId.start). With `again`, a
   * finished job of that id is removed first, so the cell takes it once more (a cell whose Redis
   * lost the job's effect, see docs/services.md); a job still waiting or running is left as it is.
   */
  async startService(cellId: string, job: StartServiceJob, options: { again?: boolean } = {}): Promise<void> {
    const id = serviceJobId.start(job.serviceInstanceId);
    if (options.again) await this.removeFinished(cellId, id);
    await this.queue(cellId).add(CellJobName.StartService, job, { jobId: id });
  }

  /** Queues a service instance's delete-service job (jobId serviceJobId.delete); a failed one of that id is replaced. */
  async deleteService(cellId: string, job: DeleteServiceJob): Promise<void> {
    const id = serviceJobId.delete(job.serviceInstanceId);
    await this.removeFinished(cellId, id, ['failed']);
    await this.queue(cellId).add(CellJobName.DeleteService, job, { jobId: id });
  }

  /** Queues a service instance's restore-service job (jobId serviceJobId.restore); one of that id already there is left as it is. */
  async restoreService(cellId: string, job: RestoreServiceJob): Promise<void> {
    await this.queue(cellId).add(CellJobName.RestoreService, job, { jobId: serviceJobId.restore(job.serviceInstanceId, job.backupId) });
  }

  /** Removes a finished (completed or failed) job of that id, so that the same id can be queued anew. */
  async forgetFinished(cellId: string, id: string): Promise<void> {
    await this.removeFinished(cellId, id);
  }

  /** Where a job of a cell's queue stands: 'queued' (waiting or taken), 'completed', 'failed' (with the reason), or 'absent' (never added, or lost with Redis's data). */
  async jobState(cellId: string, id: string): Promise<{ state: 'queued' | 'completed' | 'absent' } | { state: 'failed'; reason: string }> {
    const job = await this.queue(cellId).getJob(id);
    if (!job) return { state: 'absent' };
    const state = await job.getState();
    if (state === 'completed') return { state };
    if (state === 'failed') return { state, reason: job.failedReason || 'the job failed on the cell' };
    if (state === 'unknown') return { state: 'absent' };
    return { state: 'queued' };
  }

  private async removeFinished(cellId: string, id: string, states: readonly string[] = ['completed', 'failed']): Promise<void> {
    const job = await this.queue(cellId).getJob(id);
    if (job && states.includes(await job.getState())) await job.remove().catch(() => undefined);
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
