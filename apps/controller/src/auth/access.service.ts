import { Injectable } from '@nestjs/common';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from './actor';
import { SpaceRolesRepository } from './space-roles.repository';

/** What a caller wants to do in a space; each role allows a prefix of this list. */
export type SpaceAction = 'read' | 'write' | 'manage';

const ALLOWED: Record<'ADMIN' | 'DEVELOPER' | 'VIEWER', readonly SpaceAction[]> = {
  ADMIN: ['read', 'write', 'manage'],
  DEVELOPER: ['read', 'write'],
  VIEWER: ['read'],
};

/**
 * Role checks. A caller who holds no role in a space cannot see it: 404 (never revealing that it
 * exists). A caller who can see it but whose role does not allow the action: 403, naming the role
 * needed. Platform admins may do everything.
 */
@Injectable()
export class AccessService {
  constructor(private readonly roles: SpaceRolesRepository) {}

  /** Space ids the actor may see, or undefined for "all" (platform admin). */
  async visibleSpaceIds(actor: Actor): Promise<string[] | undefined> {
    if (actor.isAdmin) return undefined;
    return this.roles.spaceIdsOf(actor.userId);
  }

  /** Org ids the actor may see (orgs of its spaces), or undefined for all. */
  async visibleOrgIds(actor: Actor): Promise<string[] | undefined> {
    if (actor.isAdmin) return undefined;
    return [...new Set(await this.roles.orgIdsOf(actor.userId))];
  }

  async roleIn(actor: Actor, spaceId: string): Promise<'ADMIN' | 'DEVELOPER' | 'VIEWER' | undefined> {
    if (actor.isAdmin) return 'ADMIN';
    const role = await this.roles.roleIn(actor.userId, spaceId);
    return role?.role;
  }

  /**
   * Throws 404 (`kind id` not found) when the actor cannot see the space, 403 when it can but may
   * not do `action`.
   */
  async require(actor: Actor, spaceId: string, action: SpaceAction, kind: string, id: string): Promise<void> {
    const role = await this.roleIn(actor, spaceId);
    if (!role) throw notFound(kind, id);
    if (!ALLOWED[role].includes(action)) {
      const needed = action === 'manage' ? 'admin' : 'developer or admin';
      throw new DomainException(
        ErrorCode.Forbidden,
        `your role in this space is ${role.toLowerCase()}: changing ${kind} ${id} needs the ${needed} role (ask a space admin)`,
      );
    }
  }

  /**
   * An org has no roles of its own: its managers are the admins of its spaces. Throws 403 naming
   * that role unless the actor is a platform admin or the space admin of a space of `orgId`
   * (the same answer whether the org exists or not, so it reveals no other org).
   */
  async requireOrgManager(actor: Actor, orgId: string, what: string): Promise<void> {
    if (actor.isAdmin || (await this.roles.holdsRoleInOrg(actor.userId, orgId, 'ADMIN'))) return;
    throw new DomainException(
      ErrorCode.Forbidden,
      `${what} needs the org manager role: the admin role in a space of org ${orgId} (or a platform admin); ask a platform admin to make you admin of one of its spaces`,
    );
  }

  requirePlatformAdmin(actor: Actor, what: string): void {
    if (!actor.isAdmin) {
      throw new DomainException(ErrorCode.Forbidden, `${what} needs a platform admin: ask one to do it for you`);
    }
  }
}
