import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { RouteHostsRepository } from './route-hosts.repository';

/** The rule, as every refusal states it. */
export const HOST_OWNERSHIP_RULE =
  'a host belongs to one space: every route on it, whatever its path, is in the space of the host\'s first route (until its last route is deleted)';

/**
 * The one answer to a route on a host that another space owns, wherever it is attempted (the
 * routes API, app creation, a manifest push, random-route): 409 `host-taken` naming the rule, and
 * the owning space and org only to an actor who may see that space.
 */
@Injectable()
export class HostOwnershipService {
  constructor(
    private readonly hosts: RouteHostsRepository,
    private readonly access: AccessService,
  ) {}

  /**
   * The message for `fqdn` owned by `ownerSpaceId`, as the actor may read it (no actor: the owner
   * unnamed); `fix` says what to do
   * instead (by default: another host, or the owning space when the actor can see it).
   */
  async takenMessage(actor: Actor | undefined, fqdn: string, ownerSpaceId: string, fix?: string): Promise<string> {
    const owner = actor && (await this.access.roleIn(actor, ownerSpaceId)) ? await this.hosts.spaceName(ownerSpaceId) : undefined;
    const by = owner ? `space ${owner.space} of org ${owner.org}` : 'another space';
    return `the host ${fqdn} belongs to ${by}: ${HOST_OWNERSHIP_RULE}; ${fix ?? `choose another host${owner ? `, or create the route in space ${owner.space}` : ''}`}`;
  }

  async takenError(actor: Actor, fqdn: string, ownerSpaceId: string, fix?: string): Promise<DomainException> {
    const visible = Boolean(await this.access.roleIn(actor, ownerSpaceId));
    return new DomainException(ErrorCode.HostTaken, await this.takenMessage(actor, fqdn, ownerSpaceId, fix), visible ? { space_id: ownerSpaceId } : undefined);
  }
}
