import type { Prisma } from '../generated/prisma/client';
import type { PrismaService } from '../platform/database/prisma.service';

/** The columns of an app's row as read under its lock. */
export interface LockedApp {
  env: Record<string, string>;
  state: string;
  currentReleaseId: string | null;
}

/**
 * Takes the app's row lock (`SELECT … FOR UPDATE`) in transaction `tx` and returns the row as it
 * is under the lock, undefined when the app is gone. The lock is held until `tx` ends: every
 * change that numbers a release, reads then writes the env, checks for a deployment in progress
 * or marks droplets pruned takes it, so two such changes of one app run one after the other.
 */
export async function lockApp(tx: Prisma.TransactionClient, appId: string): Promise<LockedApp | undefined> {
  const rows = await tx.$queryRaw<Array<{ env: Record<string, string> | null; state: string; current_release_id: string | null }>>`
    SELECT env, state::text AS state, current_release_id FROM apps WHERE id = ${appId}::uuid FOR UPDATE`;
  const row = rows[0];
  return row && { env: row.env ?? {}, state: row.state, currentReleaseId: row.current_release_id };
}

/**
 * Runs `work` holding the app's row lock (see `lockApp`): in `tx` when the caller is already in a
 * transaction, else in a transaction of its own. `work` gets the transaction and the locked row.
 */
export function withAppLock<T>(
  prisma: PrismaService,
  appId: string,
  work: (tx: Prisma.TransactionClient, app: LockedApp | undefined) => Promise<T>,
  tx?: Prisma.TransactionClient,
): Promise<T> {
  const run = async (t: Prisma.TransactionClient) => work(t, await lockApp(t, appId));
  return tx ? run(tx) : prisma.$transaction(run);
}
