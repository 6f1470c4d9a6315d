import type { z } from 'zod';
import { errorBodySchema, paginatedSchema } from '@paas/contracts';

/** An answer of the API that is not a success: its HTTP status (0: unreachable), its code and what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Comma-separated list filters (`?space_ids=A,B`); empty lists and undefined are left out. */
export type ListFilter = Record<string, string | readonly string[] | undefined>;

/** The query string of a list filter, with its `?`; '' when nothing is set. */
export function query(filter: ListFilter = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(',');
    if (text !== '') params.set(key, text);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** One path segment, encoded. */
export const seg = (value: string) => encodeURIComponent(value);

/**
 * The HTTP side of the API client: the token on every request, errors as ApiError, answers
 * validated against the shared contract, pagination. Uses only `fetch` (Node and browsers).
 */
export class ApiTransport {
  constructor(
    readonly apiUrl: string,
    private readonly token: string,
  ) {}

  protected url(path: string): URL {
    return new URL(path, this.apiUrl);
  }

  /** fetch with the token; a network failure becomes an ApiError that says where the API was looked for. */
  protected async send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(this.url(path), {
        ...init,
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new ApiError(0, 'unreachable', `cannot reach the API at ${this.apiUrl} (${why}): is the platform running, and is the URL right?`);
    }
  }

  /** The API's error body as an ApiError (its message says what to do), or a generic one for other answers. */
  protected static async failure(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let parsed: ReturnType<typeof errorBodySchema.safeParse> | undefined;
    try {
      parsed = errorBodySchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) return new ApiError(res.status, parsed.data.error.code, parsed.data.error.message);
    if (res.status === 404) return new ApiError(404, 'not-found', `the API has no ${new URL(res.url || 'http://x/').pathname}: is the platform older than this client?`);
    return new ApiError(res.status, `http-${res.status}`, `the API answered ${res.status}: ${text.slice(0, 200)}`);
  }

  /** Calls the API and validates the answer against the shared contract. */
  protected async call<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown): Promise<z.infer<S>> {
    const res = await this.send(method, path, {
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await ApiTransport.failure(res);
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(res.status, 'unexpected-answer', `the API at ${this.apiUrl} answered ${method} ${path} with something that is not JSON: is the URL the controller's?`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(
        res.status,
        'unexpected-answer',
        `the API at ${this.apiUrl} answered ${method} ${path} in an unexpected shape: is the client older than the platform? (${issue?.path.join('.')}: ${issue?.message})`,
      );
    }
    // The response schemas have no transforms or defaults: the validated answer is the answer as sent.
    return json as z.infer<S>;
  }

  /** Every page of a paginated list (200 per request), in the API's order. */
  protected async listAll<S extends z.ZodType>(item: S, path: string, filter: ListFilter = {}): Promise<Array<z.infer<S>>> {
    const all: Array<z.infer<S>> = [];
    let next: string | null = `${path}${query({ ...filter, per_page: '200' })}`;
    while (next) {
      const page: { resources: Array<z.infer<S>>; pagination: { next: { href: string } | null } } = await this.call(paginatedSchema(item), 'GET', next);
      all.push(...page.resources);
      next = page.pagination.next?.href ?? null;
    }
    return all;
  }

  /** The first `limit` items of a paginated list (at most 200). */
  protected async listFirst<S extends z.ZodType>(item: S, path: string, limit: number, filter: ListFilter = {}): Promise<Array<z.infer<S>>> {
    const perPage = String(Math.min(200, Math.max(1, Math.floor(limit))));
    return (await this.call(paginatedSchema(item), 'GET', `${path}${query({ ...filter, per_page: perPage })}`)).resources;
  }
}
