import { errorBodySchema } from '@paas/contracts';

export interface AppSummary {
  id: string;
  name: string;
  state: string;
  url: string;
  git_url: string;
}

export interface InstanceSummary {
  index: number;
  state: string;
  cell_id: string;
  address: string | null;
  uptime_s: number;
  last_crash_reason: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The controller's REST API, typed for the CLI; errors carry the API's own message. */
export class ApiClient {
  constructor(
    readonly apiUrl: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
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
    return (text ? JSON.parse(text) : undefined) as T;
  }

  listApps(): Promise<{ resources: AppSummary[] }> {
    return this.call('GET', '/v1/apps');
  }

  getApp(name: string): Promise<AppSummary> {
    return this.call('GET', `/v1/apps/${encodeURIComponent(name)}`);
  }

  instances(name: string): Promise<{ resources: InstanceSummary[] }> {
    return this.call('GET', `/v1/apps/${encodeURIComponent(name)}/instances`);
  }

  createApp(name: string): Promise<AppSummary> {
    return this.call('POST', '/v1/apps', { name });
  }

  async deleteApp(name: string): Promise<void> {
    await this.call('DELETE', `/v1/apps/${encodeURIComponent(name)}`);
  }
}
