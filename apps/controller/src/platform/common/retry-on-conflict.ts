import { Prisma } from '../../generated/prisma/client';

/**
 * Runs an upsert-like operation again when a concurrent one (another controller replica) won the
 * race to insert the same unique row: the second try then finds the row.
 */
export async function retryOnConflict<T>(operation: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const conflict = error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
      if (!conflict || attempt >= attempts) throw error;
    }
  }
}
