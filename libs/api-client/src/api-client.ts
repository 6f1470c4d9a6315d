import { z } from 'zod';
import {
  securityGroupViewSchema,
  type SecurityGroupLifecycle,
  type SecurityGroupRule,
  type SecurityGroupView,
  buildLogViewSchema,
  type BuildLogView,
  changeResultSchema,
  appViewSchema,
  buildViewSchema,
  cellViewSchema,
  deploymentViewSchema,
  routeDestinationsViewSchema,
  envChangeSchema,
  envViewSchema,
  eventViewSchema,
  instanceListSchema,
  LOG_SSE_EVENT,
  meViewSchema,
  orgViewSchema,
  processListSchema,
  releaseViewSchema,
  routeViewSchema,
  scaleResultSchema,
  spaceViewSchema,
  type ChangeResult,
  type AppView,
  type BuildView,
  type CellView,
  type DeploymentView,
  type EnvChange,
  type EnvView,
  type EventView,
  type InstanceList,
  type InstanceView,
  type MeView,
  type OrgView,
  type ProcessView,
  type ReleaseView,
  type RouteView,
  type ScaleResult,
  type SpaceView,
} from '@paas/contracts';

const cellStateChangeSchema = z.object({ id: z.string(), state: z.string() });
import { ApiTransport, query, seg } from './api-transport';
import { DomainsClient } from './domains-client';
import { logListSchema, type LogEntry } from './log-entry';
import { parseSse } from './sse';

export type AppSummary = AppView;
export type InstanceSummary = InstanceView;
export type DestinationsView = z.infer<typeof routeDestinationsViewSchema>;

/** A destination to bind to a route (`process_type` defaults to web, `port` to 8080, `weight` to 1). */
export interface DestinationRequest {
  app: { id: string };
  process_type?: string;
  port?: number;
  weight?: number;
}

/** The answer of a source upload: the build output, line by line, then whether the new release runs. */
export interface SourceUploadResult {
  ok: boolean;
}

/** The marker of the last line of a build output stream (the git hook endpoint's and the source upload's). */
export const BUILD_RESULT_PREFIX = 'PAAS-RESULT ';

/**
 * The controller's REST API, typed for its clients (the CLI, the dashboard): every answer is
 * validated against the shared contract; errors carry the API's own code and message. Uses only
 * `fetch`, so it runs in Node and in browsers. Answers are returned as the API sent them once they
 * passed validation (fields the contract does not name are kept), so a client may print them as is.
 * Every method may be called any number of times; none keeps state between calls. The backing
 * services' methods are in its base ServicesClient, the domains', certificates' and route HTTPS
 * settings' in DomainsClient.
 */
export class ApiClient extends DomainsClient {
  // --- you ---------------------------------------------------------------------------------

  whoami(): Promise<MeView> {
    return this.call(meViewSchema, 'GET', '/v1/users/me');
  }

  // --- apps --------------------------------------------------------------------------------

  async listApps(filter: { spaceIds?: string[]; names?: string[] } = {}): Promise<{ resources: AppSummary[] }> {
    return { resources: await this.listAll(appViewSchema, '/v1/apps', { space_ids: filter.spaceIds, names: filter.names }) };
  }

  getApp(app: string): Promise<AppSummary> {
    return this.call(appViewSchema, 'GET', `/v1/apps/${seg(app)}`);
  }

  /** The app's instances and their counts per process type (STOPPING ones are not running). */
  instances(app: string): Promise<InstanceList> {
    return this.call(instanceListSchema, 'GET', `/v1/apps/${seg(app)}/instances`);
  }

  createApp(name: string, options: { space_id?: string; no_route?: boolean } = {}): Promise<AppSummary> {
    return this.call(appViewSchema, 'POST', '/v1/apps', { name, ...options });
  }

  renameApp(app: string, name: string): Promise<AppSummary> {
    return this.call(appViewSchema, 'PATCH', `/v1/apps/${seg(app)}`, { name });
  }

  async deleteApp(app: string): Promise<void> {
    await this.call(z.undefined(), 'DELETE', `/v1/apps/${seg(app)}`);
  }

  // --- processes, env, actions -------------------------------------------------------------

  async processes(app: string): Promise<ProcessView[]> {
    return (await this.call(processListSchema, 'GET', `/v1/apps/${seg(app)}/processes`)).resources;
  }

  /** `cpu_millicores: null` removes the process's CPU quota. */
  scale(app: string, type: string, change: { instances?: number; memory_mb?: number; disk_mb?: number; cpu_millicores?: number | null }): Promise<ScaleResult> {
    return this.call(scaleResultSchema, 'POST', `/v1/apps/${seg(app)}/processes/${seg(type)}/actions/scale`, change);
  }

  env(app: string): Promise<EnvView> {
    return this.call(envViewSchema, 'GET', `/v1/apps/${seg(app)}/env`);
  }

  /** A string sets a variable, null removes it. */
  updateEnv(app: string, vars: Record<string, string | null>): Promise<EnvChange> {
    return this.call(envChangeSchema, 'PATCH', `/v1/apps/${seg(app)}/env`, { var: vars });
  }

  start(app: string): Promise<ChangeResult> {
    return this.call(changeResultSchema, 'POST', `/v1/apps/${seg(app)}/actions/start`);
  }

  stop(app: string): Promise<ChangeResult> {
    return this.call(changeResultSchema, 'POST', `/v1/apps/${seg(app)}/actions/stop`);
  }

  restart(app: string): Promise<ChangeResult> {
    return this.call(changeResultSchema, 'POST', `/v1/apps/${seg(app)}/actions/restart`);
  }

  rollback(app: string, version: number): Promise<ChangeResult> {
    return this.call(changeResultSchema, 'POST', `/v1/apps/${seg(app)}/actions/rollback`, { version });
  }

  // --- builds, releases, deployments -------------------------------------------------------

  builds(app: string, limit = 50): Promise<BuildView[]> {
    return this.listFirst(buildViewSchema, `/v1/apps/${seg(app)}/builds`, limit);
  }

  /** Newest first. */
  releases(app: string): Promise<ReleaseView[]> {
    return this.listAll(releaseViewSchema, `/v1/apps/${seg(app)}/releases`);
  }

  /** Newest first. */
  deployments(app: string, limit = 50): Promise<DeploymentView[]> {
    return this.listFirst(deploymentViewSchema, `/v1/apps/${seg(app)}/deployments`, limit);
  }

  deployment(app: string, id: string): Promise<DeploymentView> {
    return this.call(deploymentViewSchema, 'GET', `/v1/apps/${seg(app)}/deployments/${seg(id)}`);
  }

  cancelDeployment(app: string, id: string): Promise<DeploymentView> {
    return this.call(deploymentViewSchema, 'POST', `/v1/apps/${seg(app)}/deployments/${seg(id)}/cancel`);
  }

  // --- events ------------------------------------------------------------------------------

  /** The audit log, newest first. */
  events(filter: { targetIds?: string[]; types?: string[]; spaceIds?: string[] } = {}, limit = 50): Promise<EventView[]> {
    return this.listFirst(eventViewSchema, '/v1/events', limit, { target_ids: filter.targetIds, types: filter.types, space_ids: filter.spaceIds });
  }

  // --- routes and domains ------------------------------------------------------------------

  routes(filter: { appIds?: string[]; spaceIds?: string[]; hosts?: string[]; domainIds?: string[] } = {}): Promise<RouteView[]> {
    return this.listAll(routeViewSchema, '/v1/routes', { app_ids: filter.appIds, space_ids: filter.spaceIds, hosts: filter.hosts, domain_ids: filter.domainIds });
  }

  createRoute(route: { host: string; domain_id: string; path?: string; space_id: string }): Promise<RouteView> {
    return this.call(routeViewSchema, 'POST', '/v1/routes', route);
  }

  async deleteRoute(id: string): Promise<void> {
    await this.call(z.undefined(), 'DELETE', `/v1/routes/${seg(id)}`);
  }

  /** Adds destinations (one already bound takes the new weight). */
  addDestinations(routeId: string, destinations: DestinationRequest[]): Promise<DestinationsView> {
    return this.call(routeDestinationsViewSchema, 'POST', `/v1/routes/${seg(routeId)}/destinations`, { destinations });
  }

  async removeDestination(routeId: string, destinationId: string): Promise<void> {
    await this.call(z.undefined(), 'DELETE', `/v1/routes/${seg(routeId)}/destinations/${seg(destinationId)}`);
  }

  // --- security groups ---------------------------------------------------------------------

  securityGroups(filter: { names?: string[] } = {}): Promise<SecurityGroupView[]> {
    return this.listAll(securityGroupViewSchema, '/v1/security-groups', { names: filter.names });
  }

  /** By id or name. */
  securityGroup(idOrName: string): Promise<SecurityGroupView> {
    return this.call(securityGroupViewSchema, 'GET', `/v1/security-groups/${seg(idOrName)}`);
  }

  createSecurityGroup(group: { name: string; rules: SecurityGroupRule[]; globally_enabled?: { running?: boolean; staging?: boolean } }): Promise<SecurityGroupView> {
    return this.call(securityGroupViewSchema, 'POST', '/v1/security-groups', group);
  }

  updateSecurityGroup(
    idOrName: string,
    change: { name?: string; rules?: SecurityGroupRule[]; globally_enabled?: { running?: boolean; staging?: boolean } },
  ): Promise<SecurityGroupView> {
    return this.call(securityGroupViewSchema, 'PATCH', `/v1/security-groups/${seg(idOrName)}`, change);
  }

  async deleteSecurityGroup(idOrName: string): Promise<void> {
    await this.call(z.undefined(), 'DELETE', `/v1/security-groups/${seg(idOrName)}`);
  }

  bindSecurityGroup(idOrName: string, spaceIds: string[], lifecycle: SecurityGroupLifecycle): Promise<SecurityGroupView> {
    return this.call(securityGroupViewSchema, 'POST', `/v1/security-groups/${seg(idOrName)}/${lifecycle}-spaces`, { space_ids: spaceIds });
  }

  async unbindSecurityGroup(idOrName: string, spaceId: string, lifecycle: SecurityGroupLifecycle): Promise<void> {
    await this.call(z.undefined(), 'DELETE', `/v1/security-groups/${seg(idOrName)}/${lifecycle}-spaces/${seg(spaceId)}`);
  }

  // --- orgs, spaces, cells -----------------------------------------------------------------

  orgs(filter: { names?: string[] } = {}): Promise<OrgView[]> {
    return this.listAll(orgViewSchema, '/v1/orgs', { names: filter.names });
  }

  createOrg(name: string): Promise<OrgView> {
    return this.call(orgViewSchema, 'POST', '/v1/orgs', { name });
  }

  spaces(filter: { orgIds?: string[]; names?: string[] } = {}): Promise<SpaceView[]> {
    return this.listAll(spaceViewSchema, '/v1/spaces', { org_ids: filter.orgIds, names: filter.names });
  }

  createSpace(name: string, orgId: string): Promise<SpaceView> {
    return this.call(spaceViewSchema, 'POST', '/v1/spaces', { name, org_id: orgId });
  }

  cells(): Promise<CellView[]> {
    return this.listAll(cellViewSchema, '/v1/cells');
  }

  /** The cell takes no new work; the convergence loop moves its instances (platform admins only). Safe to repeat. */
  drainCell(id: string): Promise<{ id: string; state: string }> {
    return this.call(cellStateChangeSchema, 'POST', `/v1/cells/${seg(id)}/actions/drain`);
  }

  /** Ends a drain made through the API: the cell takes work again at its next heartbeat. Safe to repeat. */
  undrainCell(id: string): Promise<{ id: string; state: string }> {
    return this.call(cellStateChangeSchema, 'POST', `/v1/cells/${seg(id)}/actions/undrain`);
  }

  /** The lines of a build's log after line `since` (0: all), and whether its push has ended. */
  buildLog(app: string, buildId: string, since = 0): Promise<BuildLogView> {
    return this.call(buildLogViewSchema, 'GET', `/v1/apps/${seg(app)}/builds/${seg(buildId)}/log${query({ format: 'json', since: String(since) })}`);
  }

  // --- logs --------------------------------------------------------------------------------

  /** The app's last `limit` log lines, oldest first. */
  async recentLogs(app: string, limit = 100): Promise<LogEntry[]> {
    return (await this.call(logListSchema, 'GET', `/v1/apps/${seg(app)}/logs${query({ recent: 'true', limit: String(limit) })}`)).resources;
  }

  /**
   * The app's log as server-sent events, until the server ends the stream or `signal` aborts.
   * `since` resumes after that entry id (sent as Last-Event-ID); without it `recent` asks for the
   * last N entries first. Yields each entry with its event id; throws ApiError when the stream
   * cannot be opened. A dropped connection just ends the iteration: resume with the last id.
   */
  async *streamLogs(app: string, options: { since?: string; recent?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogEntry> {
    const path = `/v1/apps/${seg(app)}/logs/stream${query({ recent: options.since === undefined && options.recent !== undefined ? String(options.recent) : undefined })}`;
    const res = await this.send('GET', path, {
      headers: { accept: 'text/event-stream', ...(options.since !== undefined ? { 'last-event-id': options.since } : {}) },
      signal: options.signal,
    });
    if (!res.ok) throw await ApiTransport.failure(res);
    if (!res.body) return;
    try {
      for await (const event of parseSse(res.body)) {
        if (event.event !== LOG_SSE_EVENT) continue;
        let entry: LogEntry;
        try {
          entry = logListSchema.shape.resources.element.parse(JSON.parse(event.data));
        } catch {
          continue; // a malformed event is skipped, the stream goes on
        }
        yield { ...entry, id: event.id ?? entry.id };
      }
    } catch {
      // A connection that breaks off mid-stream (or an abort) ends the iteration; the caller resumes with the last id.
      return;
    }
  }

  // --- source packages ---------------------------------------------------------------------

  /**
   * Uploads a source package (a tar, gzipped or not) as a push from a directory that is not a git
   * repository: POST /v1/apps/:app/source. The answer streams the build output; `onLine` gets each
   * line as it comes, and the result says whether the new release runs. `onProgress` gets the bytes
   * sent so far. Not safe to call twice for one push: each call is a build.
   */
  async uploadSource(
    app: string,
    body: AsyncIterable<Uint8Array>,
    options: { onProgress?: (sent: number) => void; onLine: (line: string) => void; signal?: AbortSignal },
  ): Promise<SourceUploadResult> {
    let sent = 0;
    const iterator = body[Symbol.asyncIterator]();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) {
          controller.close();
          return;
        }
        sent += next.value.byteLength;
        options.onProgress?.(sent);
        controller.enqueue(next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    });
    const res = await this.send('POST', `/v1/apps/${seg(app)}/source`, {
      headers: { 'content-type': 'application/gzip' },
      body: stream,
      signal: options.signal,
      // Node's fetch streams a request body only half-duplex.
      ...({ duplex: 'half' } as object),
    });
    if (!res.ok) throw await ApiTransport.failure(res);
    let ok: boolean | undefined;
    const decoder = new TextDecoder();
    let buffered = '';
    const take = (line: string) => {
      if (line.startsWith(BUILD_RESULT_PREFIX)) ok = line.slice(BUILD_RESULT_PREFIX.length).trim() === 'ok';
      else options.onLine(line);
    };
    if (res.body) {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          take(buffered.slice(0, newline).replace(/\r$/, ''));
          buffered = buffered.slice(newline + 1);
        }
      }
    }
    buffered += decoder.decode();
    if (buffered) take(buffered);
    if (ok === undefined) {
      options.onLine('the controller ended the build output without a result: see GET /v1/apps/' + app + '/builds');
      return { ok: false };
    }
    return { ok };
  }
}
