import { z } from 'zod';
import {
  appViewSchema,
  errorBodySchema,
  instanceListSchema,
  paginatedSchema,
  type AppView,
  type InstanceView,
} from '@paas/contracts';

export type AppSummary = AppView;
export type InstanceSummary = InstanceView;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The controller's REST API, typed for its clients (the CLI, the dashboard): every answer is
 * validated against the shared contract; errors carry the API's own code and message. Uses only
 * `fetch`, so it runs in Node and in browsers.
 */
export class ApiClient {
  constructor(
    readonly apiUrl: string,
    private readonly token: string,
  ) {}

  /** Calls the API and validates the answer against the shared contract. */
  private async call<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown): Promise<z.infer<S>> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.apiUrl), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, 'unreachable', `cannot reach the API at ${this.apiUrl}: ${(error as Error).message}; is the platform running?`);
    }
    const text = await res.text();
    if (!res.ok) {
      let parsed: ReturnType<typeof errorBodySchema.safeParse> | undefined;
      try {
        parsed = errorBodySchema.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) throw new ApiError(res.status, parsed.data.error.code, parsed.data.error.message);
      throw new ApiError(res.status, `http-${res.status}`, `the API answered ${res.status}: ${text.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(text ? JSON.parse(text) : undefined);
    if (!parsed.success) {
      throw new ApiError(res.status, 'unexpected-answer', `the API at ${this.apiUrl} answered ${path} in an unexpected shape: is the CLI older than the platform? (${parsed.error.issues[0]?.message})`);
    }
    return parsed.data;
  }

  listApps(): Promise<{ resources: AppSummary[] }> {
    return this.call(paginatedSchema(appViewSchema), 'GET', '/v1/apps?per_page=200');
  }

  getApp(name: string): Promise<AppSummary> {
    return this.call(appViewSchema, 'GET', `/v1/apps/${encodeURIComponent(name)}`);
  }

  instances(name: string): Promise<{ resources: InstanceSummary[] }> {
    return this.call(instanceListSchema, 'GET', `/v1/apps/${encodeURIComponent(name)}/instances`);
  }

  createApp(name: string): Promise<AppSummary> {
    return this.call(appViewSchema, 'POST', '/v1/apps', { name });
  }

  async deleteApp(name: string): Promise<void> {
    await this.call(z.undefined(), 'DELETE', `/v1/apps/${encodeURIComponent(name)}`);
  }
}
