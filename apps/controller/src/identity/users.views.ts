import type { ApiToken, User } from '../generated/prisma/client';
import type { UserWithRoles } from './users.repository';

export interface UserView {
  id: string;
  name: string;
  is_admin: boolean;
  created_at: string;
}

export interface MeView extends UserView {
  roles: Array<{ space_id: string; space_name: string; org_id: string; org_name: string; role: string }>;
}

/** A token as listed: never its secret. */
export interface TokenView {
  id: string;
  name: string;
  user_id: string;
  created_at: string;
}

export function userView(user: User): UserView {
  return { id: user.id, name: user.name, is_admin: user.isAdmin, created_at: user.createdAt.toISOString() };
}

export function meView(user: UserWithRoles): MeView {
  return {
    ...userView(user),
    roles: user.roles.map((r) => ({
      space_id: r.spaceId,
      space_name: r.space.name,
      org_id: r.space.orgId,
      org_name: r.space.org.name,
      role: r.role.toLowerCase(),
    })),
  };
}

export function tokenView(token: ApiToken): TokenView {
  return { id: token.id, name: token.name, user_id: token.userId, created_at: token.createdAt.toISOString() };
}
