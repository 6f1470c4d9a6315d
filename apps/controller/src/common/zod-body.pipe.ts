import { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { DomainException, ErrorCode } from './domain.exception';

/** Validates a request body against a contract schema; a failure names each field and rule. */
export class ZodBodyPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.infer<T> {
    const parsed = this.schema.safeParse(value ?? {});
    if (parsed.success) return parsed.data;
    const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', rule: i.message }));
    const message = details.map((d) => `${d.field}: ${d.rule}`).join('; ');
    throw new DomainException(ErrorCode.ValidationFailed, message, details);
  }
}
