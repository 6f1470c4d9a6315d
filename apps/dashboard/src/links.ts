/** How the router is reached (scheme and port), learned from an app's `url` (http://NAME.apps.example:8080/). */
export interface RouterBase {
  protocol: string;
  port: string;
}

export const DEFAULT_ROUTER_BASE: RouterBase = { protocol: 'http:', port: '' };

export function routerBaseOf(appUrl: string | undefined): RouterBase {
  if (!appUrl) return DEFAULT_ROUTER_BASE;
  try {
    const url = new URL(appUrl);
    return { protocol: url.protocol, port: url.port ? `:${url.port}` : '' };
  } catch {
    return DEFAULT_ROUTER_BASE;
  }
}

/** A route's `url` (host.domain/path, as the API gives it) as a link through the router. */
export function routeHref(routeUrl: string, base: RouterBase): string {
  const slash = routeUrl.indexOf('/');
  const host = slash < 0 ? routeUrl : routeUrl.slice(0, slash);
  const path = slash < 0 ? '/' : routeUrl.slice(slash);
  return `${base.protocol}//${host}${base.port}${path}`;
}
