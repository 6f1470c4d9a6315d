import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling: the user behind the API token. */
export interface Actor {
  userId: string;
  name: string;
  isAdmin: boolean;
}

export type RequestWithActor = Request & { actor?: Actor };

/** The authenticated caller, set by TokenGuard. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const actor = context.switchToHttp().getRequest<RequestWithActor>().actor;
  if (!actor) throw new Error('CurrentActor used on a route without TokenGuard');
  return actor;
});
