import type { Logger } from '../config/config.module';

/**
 * A background pass run every intervalMs on an unref'd timer (it never keeps the process up),
 * one at a time: a tick that comes while the last pass still runs is skipped. A pass that
 * throws is logged as `failedEvent` and the next tick runs again. Start it once the module is
 * up, stop it when the module goes.
 */
export class PeriodicPass {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly failedEvent: string,
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.pass();
    } catch (error) {
      this.logger.warn({ err: error }, this.failedEvent);
    } finally {
      this.running = false;
    }
  }
}
