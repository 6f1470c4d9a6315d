import type { BoundService } from '@paas/contracts';

/** A loopback host: the cell's own, which containers reach at their bridge gateway. */
export const isLoopback = (host: string): boolean => /^127\./.test(host) || host === 'localhost';

/**
 * The bound services as an app container must use them: a server named by a loopback address
 * (the cell's own host, on a single-host platform) is reached at the bridge gateway, since the
 * container's 127.0.0.1 is its own; `credentials.host`, the host inside `credentials.uri` and
 * `endpoint.host` are rewritten alike (the egress allowance and the credentials name one place).
 * Everything else is passed on unchanged. Pure.
 */
export function servicesSeenFromContainers(services: readonly BoundService[] | undefined, gateway: string | undefined): BoundService[] {
  const onHost = (host: string) => (gateway && isLoopback(host) ? gateway : host);
  return (services ?? []).map((service) => {
    const credentials = { ...service.credentials };
    if (typeof credentials.host === 'string') credentials.host = onHost(credentials.host);
    if (typeof credentials.uri === 'string') credentials.uri = withHost(credentials.uri, onHost);
    return {
      ...service,
      credentials,
      ...(service.endpoint ? { endpoint: { host: onHost(service.endpoint.host), port: service.endpoint.port } } : {}),
    };
  });
}

/** `uri` with its host mapped; left as it is when it does not parse as a URL with a host. */
function withHost(uri: string, onHost: (host: string) => string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return uri;
  }
  if (!url.hostname) return uri;
  const mapped = onHost(url.hostname);
  if (mapped === url.hostname) return uri;
  url.hostname = mapped;
  return url.href;
}

/**
 * VCAP_SERVICES in Cloud Foundry's exact shape: the bindings grouped by label (the offering's
 * name), each `{label, name, instance_name, binding_name, instance_guid, binding_guid, plan, tags,
 * credentials, syslog_drain_url, volume_mounts}`, in the order they were given.
 */
export function vcapServices(services: readonly BoundService[]): Record<string, unknown[]> {
  const byLabel: Record<string, unknown[]> = {};
  for (const s of services) {
    (byLabel[s.label] ??= []).push({
      label: s.label,
      name: s.name,
      instance_name: s.name,
      binding_name: null,
      instance_guid: s.instanceId,
      binding_guid: s.bindingId,
      plan: s.plan,
      tags: s.tags,
      credentials: s.credentials,
      syslog_drain_url: null,
      volume_mounts: [],
    });
  }
  return byLabel;
}

/**
 * The Heroku-style variables (DATABASE_URL, REDIS_URL): the first binding of each kind that
 * names one sets it to its `credentials.uri`, unless the app's own env sets that variable.
 */
export function serviceUrlVariables(services: readonly BoundService[], appEnv: Record<string, string>): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const s of services) {
    const name = s.urlVariable;
    const uri = s.credentials.uri;
    if (!name || typeof uri !== 'string' || name in variables || name in appEnv) continue;
    variables[name] = uri;
  }
  return variables;
}
