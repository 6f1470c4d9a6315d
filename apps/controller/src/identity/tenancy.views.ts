import type { Org, Space, SpaceRole, User } from '../generated/prisma/client';
import type { RoleName } from './tenancy.schemas';

export interface OrgView {
  id: string;
  name: string;
  created_at: string;
}

export interface SpaceView {
  id: string;
  name: string;
  org_id: string;
  org_name: string;
  created_at: string;
}

export interface RoleView {
  space_id: string;
  user_id: string;
  user_name: string;
  role: RoleName;
  created_at: string;
}

export function orgView(org: Org): OrgView {
  return { id: org.id, name: org.name, created_at: org.createdAt.toISOString() };
}

export function spaceView(space: Space & { org: Org }): SpaceView {
  return { id: space.id, name: space.name, org_id: space.orgId, org_name: space.org.name, created_at: space.createdAt.toISOString() };
}

export function roleView(role: SpaceRole & { user: User }): RoleView {
  return {
    space_id: role.spaceId,
    user_id: role.userId,
    user_name: role.user.name,
    role: role.role.toLowerCase() as RoleName,
    created_at: role.createdAt.toISOString(),
  };
}
