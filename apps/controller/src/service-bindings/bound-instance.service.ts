import { Injectable } from '@nestjs/common';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import type { AppWithSpace } from '../apps/apps.repository';
import { ServiceInstancesService } from '../services/service-instances.service';
import type { ServiceInstanceRecord } from '../services/service-instances.repository';

/** The service instance a binding request names for an app: one of the app's own space. */
@Injectable()
export class BoundInstanceService {
  constructor(private readonly instances: ServiceInstancesService) {}

  /**
   * The instance `ref` (id or name) in the app's space; 422 when the actor sees it only in another
   * space (an app binds instances of its own space), 404 when it sees none.
   */
  async resolve(actor: Actor, app: AppWithSpace, ref: string): Promise<ServiceInstanceRecord> {
    const own = await this.instances.resolve(actor, ref, 'read', app.spaceId).catch(ifNotFound(undefined));
    if (own) return own;
    const elsewhere = await this.instances.resolve(actor, ref, 'read').catch((error: unknown) => {
      if (error instanceof DomainException && error.code === ErrorCode.AmbiguousName) return 'several';
      return ifNotFound(undefined)(error);
    });
    if (elsewhere) {
      const where = elsewhere === 'several' ? 'other spaces' : `space ${elsewhere.space.org.name}/${elsewhere.space.name}`;
      throw new DomainException(
        ErrorCode.Unprocessable,
        `service instance ${ref} is in ${where}, and ${app.name} is in ${app.space.org.name}/${app.space.name}: an app binds instances of its own space (create one there)`,
      );
    }
    throw notFound('service instance', ref, `list the service instances of ${app.name}'s space with GET /v1/service_instances?space_id=${app.spaceId}`);
  }
}

function ifNotFound<T>(value: T) {
  return (error: unknown): T => {
    if (error instanceof DomainException && error.code === ErrorCode.NotFound) return value;
    throw error;
  };
}
