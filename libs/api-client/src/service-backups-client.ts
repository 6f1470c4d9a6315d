import { z } from 'zod';
import { serviceBackupViewSchema, serviceInstanceViewSchema, type ServiceBackupView, type ServiceInstanceView } from '@paas/contracts';
import { ApiTransport, query, seg } from './api-transport';

/**
 * Backups of managed service instances and restores into them (docs/services.md, "Backups and
 * restore"). A layer of ApiClient (through ServicesClient, which extends it); use it through
 * ApiClient. `instance` is an id or a name (`spaceId` picks the space when a name is in several).
 */
export class ServiceBackupsClient extends ApiTransport {
  /** Newest first. */
  async serviceBackups(instance: string, spaceId?: string): Promise<ServiceBackupView[]> {
    const path = `/v1/service_instances/${seg(instance)}/backups${query({ space_id: spaceId })}`;
    return (await this.call(z.object({ resources: z.array(serviceBackupViewSchema) }), 'GET', path)).resources;
  }

  serviceBackup(instance: string, backupId: string, spaceId?: string): Promise<ServiceBackupView> {
    return this.call(serviceBackupViewSchema, 'GET', `/v1/service_instances/${seg(instance)}/backups/${seg(backupId)}${query({ space_id: spaceId })}`);
  }

  /** Starts a backup (202, in progress); a 409 while another backup or an operation of the instance runs. Not safe to repeat. */
  createServiceBackup(instance: string, spaceId?: string): Promise<ServiceBackupView> {
    return this.call(serviceBackupViewSchema, 'POST', `/v1/service_instances/${seg(instance)}/backups${query({ space_id: spaceId })}`);
  }

  async deleteServiceBackup(instance: string, backupId: string, spaceId?: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/v1/service_instances/${seg(instance)}/backups/${seg(backupId)}${query({ space_id: spaceId })}`);
  }

  /** Starts restoring the backup into the instance (202, last_operation restore/in progress); poll `serviceInstance` to see it end. */
  restoreServiceBackup(instance: string, backupId: string, spaceId?: string): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'POST', `/v1/service_instances/${seg(instance)}/restores${query({ space_id: spaceId })}`, { backup_id: backupId });
  }
}
