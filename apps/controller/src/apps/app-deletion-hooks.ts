import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import type { AppWithSpace } from './apps.repository';

/** Work another module does for an app about to be deleted (its instances already stopped, its row still there). */
export type AppDeletionHook = (app: AppWithSpace) => Promise<void>;

/**
 * What modules above apps/ do before an app's row goes, without apps/ depending on them:
 * service-bindings/ registers dropping the app's bindings' logins on their servers. Hooks are
 * registered at their module's init and run in that order; one that fails is logged and the
 * delete goes on (the row's cascade removes what the hook would have).
 */
@Injectable()
export class AppDeletionHooks {
  private readonly hooks: Array<{ name: string; hook: AppDeletionHook }> = [];

  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  register(name: string, hook: AppDeletionHook): void {
    this.hooks.push({ name, hook });
  }

  async run(app: AppWithSpace): Promise<void> {
    for (const { name, hook } of this.hooks) {
      await hook(app).catch((error: Error) => this.logger.warn({ err: error, app: app.name, hook: name }, 'app-deletion-hook-failed'));
    }
  }
}
