import type { Logger } from '../platform/config/config.module';
import { PeriodicPass } from '../platform/common/periodic-pass';
import type { LeaderElectionService } from './leader-election.service';

/** One background pass of the leader: what it runs and the log event of a pass that throws. */
export interface LeaderPass {
  run: () => Promise<unknown>;
  failedEvent: string;
}

/**
 * Passes that run on the convergence leader only, each every intervalMs on its own timer and
 * one at a time (PeriodicPass), apart from each other: a slow pass never holds up the others. A
 * replica that does not lead skips the tick. Start once the module is up, stop when it goes.
 */
export class LeaderPasses {
  private readonly loops: PeriodicPass[];

  constructor(leader: LeaderElectionService, logger: Logger, passes: readonly LeaderPass[]) {
    this.loops = passes.map(
      ({ run, failedEvent }) =>
        new PeriodicPass(
          async () => {
            if (await leader.tryLead()) await run();
          },
          failedEvent,
          logger,
        ),
    );
  }

  start(intervalMs: number): void {
    for (const loop of this.loops) loop.start(intervalMs);
  }

  stop(): void {
    for (const loop of this.loops) loop.stop();
  }
}
