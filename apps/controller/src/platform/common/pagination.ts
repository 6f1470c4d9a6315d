import { z } from 'zod';
import { DomainException, ErrorCode } from './domain.exception';

export const MAX_PER_PAGE = 200;

const pageQuerySchema = z.object({
  page: z.coerce.number({ error: 'page must be a whole number of 1 or more' }).int().min(1, { error: 'page must be 1 or more' }).default(1),
  per_page: z.coerce
    .number({ error: `per_page must be a whole number from 1 to ${MAX_PER_PAGE}` })
    .int()
    .min(1, { error: `per_page must be from 1 to ${MAX_PER_PAGE}` })
    .max(MAX_PER_PAGE, { error: `per_page must be from 1 to ${MAX_PER_PAGE}` })
    .default(50),
});

export interface PageRequest {
  page: number;
  perPage: number;
  skip: number;
  take: number;
}

/** `?page=&per_page=` of a list request; a bad value is a 400 naming the parameter. */
export function parsePage(query: Record<string, unknown>): PageRequest {
  const parsed = pageQuerySchema.safeParse({ page: query.page, per_page: query.per_page });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DomainException(ErrorCode.ValidationFailed, `${issue.path.join('.')}: ${issue.message}`, [
      { field: issue.path.join('.'), rule: issue.message },
    ]);
  }
  const { page, per_page: perPage } = parsed.data;
  return { page, perPage, skip: (page - 1) * perPage, take: perPage };
}

export interface Paginated<T> {
  pagination: {
    total_results: number;
    total_pages: number;
    first: { href: string };
    last: { href: string };
    next: { href: string } | null;
    previous: { href: string } | null;
  };
  resources: T[];
}

/** A page of results with Cloud Foundry v3 style links; `path` is the request path with its other query parameters. */
export function paginated<T>(resources: T[], total: number, page: PageRequest, path: string, query: Record<string, unknown>): Paginated<T> {
  const totalPages = Math.max(1, Math.ceil(total / page.perPage));
  const href = (n: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (k !== 'page' && k !== 'per_page' && typeof v === 'string') params.set(k, v);
    params.set('page', String(n));
    params.set('per_page', String(page.perPage));
    return { href: `${path}?${params.toString()}` };
  };
  return {
    pagination: {
      total_results: total,
      total_pages: totalPages,
      first: href(1),
      last: href(totalPages),
      next: page.page < totalPages ? href(page.page + 1) : null,
      previous: page.page > 1 ? href(Math.min(page.page - 1, totalPages)) : null,
    },
    resources,
  };
}
