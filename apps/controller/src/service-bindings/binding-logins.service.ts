import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { AppDeletionHooks } from '../apps/app-deletion-hooks';
import { ServiceAdminService } from '../services/service-admin.service';
import { ServiceBindingsRepository, type ServiceBindingRecord } from '../services/service-bindings.repository';
import { ServiceCellsService } from '../services/service-cells.service';
import { BrokeredBindingsService } from '../services/brokers/brokered-bindings.service';

/**
 * Dropping bindings' logins on their servers: for an unbind, and for every binding of an app being
 * deleted (registered as an app deletion hook: the logins go, then the rows).
 */
@Injectable()
export class BindingLoginsService implements OnModuleInit {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly hooks: AppDeletionHooks,
    private readonly bindings: ServiceBindingsRepository,
    private readonly admin: ServiceAdminService,
    private readonly cells: ServiceCellsService,
    private readonly brokered: BrokeredBindingsService,
  ) {}

  onModuleInit(): void {
    this.hooks.register('service-bindings', (app) => this.dropAllOf(app.id));
  }

  /**
   * Drops the binding's login (its sessions end): 'dropped'; 'cell-lost' when its cell is lost (the
   * server runs nowhere; its volume keeps the login, which no app is given any more); 'unreachable'
   * when a live cell's server did not answer.
   */
  async drop(binding: ServiceBindingRecord): Promise<'dropped' | 'cell-lost' | 'unreachable'> {
    const instance = binding.serviceInstance;
    if (instance.type === 'user-provided') return 'dropped';
    if (instance.type === 'brokered') {
      return this.brokered.unbind(instance, binding.id).then(
        () => 'dropped' as const,
        (error: Error) => {
          this.logger.warn({ err: error, instance: instance.name, binding: binding.id }, 'broker-binding-not-removed');
          return 'unreachable' as const;
        },
      );
    }
    try {
      await this.admin.dropLogin(instance, binding.username);
      return 'dropped';
    } catch (error) {
      if (instance.cellId && !(await this.cells.liveCellIds()).has(instance.cellId)) return 'cell-lost';
      this.logger.warn({ err: error, instance: instance.name, binding: binding.id }, 'binding-login-not-dropped');
      return 'unreachable';
    }
  }

  /** Every binding of the app: its login dropped, then its row (an unreachable server is logged; the row goes anyway). */
  private async dropAllOf(appId: string): Promise<void> {
    for (const binding of await this.bindings.ofApp(appId)) {
      await this.drop(binding);
      await this.bindings.delete(binding.id);
    }
  }
}
