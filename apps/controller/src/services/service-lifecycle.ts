import type { Prisma, ServiceInstance } from '../generated/prisma/client';

/**
 * Where an instance stands in its lifecycle, from its last operation. Pure.
 * - created: its create succeeded and it is not being deleted; an update (or a restore) runs on a
 *   created server and leaves it created whatever its outcome (a failed update keeps the old plan
 *   in force, as on Cloud Foundry);
 * - idle: created, with no operation in progress: it may be bound, given keys, updated.
 */
type Operation = Pick<ServiceInstance, 'operationType' | 'operationState'>;

export function isCreated(instance: Operation): boolean {
  if (instance.operationType === 'create') return instance.operationState === 'succeeded';
  return instance.operationType !== 'delete';
}

export function isIdle(instance: Operation): boolean {
  return isCreated(instance) && instance.operationState !== 'in progress';
}

/** "its update is in progress", "its create failed": what keeps an instance that is not idle from being used. */
export function operationPhrase(instance: Operation): string {
  return `its ${instance.operationType} ${instance.operationState === 'in progress' ? 'is in progress' : instance.operationState}`;
}

/** The records `isIdle` holds for (the provisioning pass keeps them started; the ones in progress it finishes). */
export const IDLE_WHERE = {
  OR: [
    { operationType: 'create', operationState: 'succeeded' },
    { operationType: { in: ['update', 'restore'] }, operationState: { not: 'in progress' } },
  ],
} satisfies Prisma.ServiceInstanceWhereInput;
