import { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { findTextProblems } from '@paas/contracts';
import { DomainException, ErrorCode } from './domain.exception';

/**
 * Validates a request body against a contract schema; a failure names each field and rule. Every
 * string of the body, keys included, also obeys the platform's text rule (no NUL, no lone
 * surrogate, no stray control character): a field the schema already refused keeps its message.
 */
export class ZodBodyPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.infer<T> {
    const parsed = this.schema.safeParse(value ?? {});
    const details = parsed.success ? [] : parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', rule: i.message }));
    const named = new Set(details.map((d) => d.field));
    for (const problem of findTextProblems(value)) {
      const field = problem.field || '(body)';
      if (!named.has(field)) details.push({ field, rule: problem.rule });
    }
    if (parsed.success && details.length === 0) return parsed.data;
    const message = details.map((d) => `${d.field}: ${d.rule}`).join('; ');
    throw new DomainException(ErrorCode.ValidationFailed, message, details);
  }
}
