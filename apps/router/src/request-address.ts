import { normalizeHost, normalizeRequestPath } from '@paas/contracts';
import type * as http from 'node:http';
import { routerErrors, type RouterError } from './router-error';

/**
 * What a request is addressed to: its route host (Host, or an absolute-form target's authority,
 * or HTTP/2's :authority) and the normal form of its path. Pure functions of the request.
 */

/** A normalised hostname: DNS-ish labels, at most 253 characters (IPv4 literals pass too). */
const VALID_HOST = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

type HostResult = { ok: true; host: string } | { ok: false; error: RouterError };

/**
 * What a request is routed by: `path`, the normal form of its path without the query
 * (normalizeRequestPath, the same function the controller stores route paths with), and
 * `authority`, the host an absolute-form target ("GET http://host/x") names. `originForm` is the
 * target as the client sent it, minus an absolute form's scheme and authority: what the backend
 * gets. An ambiguous path (no normal form) is the router's 400 `bad-path`.
 */
export type RoutingTarget = { ok: true; path: string; originForm: string; authority?: string } | { ok: false; error: RouterError };

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/is;

export function routingTarget(url: string | undefined): RoutingTarget {
  const target = url || '/';
  // OPTIONS * (asterisk-form) names no path: only a route for the whole host matches it.
  if (target === '*') return { ok: true, path: '*', originForm: target };
  let originForm = target;
  let authority: string | undefined;
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute) {
    authority = absolute[1]!;
    const rest = absolute[2]!;
    originForm = rest.startsWith('/') ? rest : `/${rest}`;
  }
  const query = originForm.indexOf('?');
  const rawPath = query < 0 ? originForm : originForm.slice(0, query);
  const normal = normalizeRequestPath(rawPath);
  if (!normal.ok) return { ok: false, error: routerErrors.badPath(rawPath, normal.problem) };
  return { ok: true, path: normal.path, originForm, ...(authority !== undefined ? { authority } : {}) };
}

/** The values of every Host line of a request, in order (node's `headers.host` keeps only the first). */
function hostLines(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') values.push(rawHeaders[i + 1]!);
  }
  return values;
}

type Addressed = { ok: true; host: string; path: string } | { ok: false; error: RouterError; host?: string };

/**
 * The route host and normal path of a request (RFC 9112 §3.2). More than one Host (two lines or
 * a list) is refused. An absolute-form target ("GET http://host/x") wins over Host: its
 * authority becomes the Host the app gets, and `req.url` its origin form, which is what an
 * origin server expects. `host` is set on a refusal too when the host was valid (access log).
 */
export function addressOf(req: http.IncomingMessage): Addressed {
  if (isHttp2(req)) return addressOfHttp2(req);
  const hosts = hostLines(req.rawHeaders);
  if (hosts.length > 1) return { ok: false, error: routerErrors.duplicateHost(hosts) };
  if (hosts[0]?.includes(',')) return { ok: false, error: routerErrors.duplicateHost(hosts[0].split(',').map((h) => h.trim())) };
  // HTTP/1.1 requires Host, also beside an absolute-form target; HTTP/1.0 may name the host in the target alone.
  if (hosts.length === 0 && (req.httpVersionMajor > 1 || req.httpVersionMinor >= 1)) return { ok: false, error: routerErrors.missingHost() };
  const target = routingTarget(req.url);
  if (target.ok && target.authority !== undefined) {
    req.headers.host = target.authority;
    req.url = target.originForm;
  }
  const resolved = resolveHost(req.headers.host);
  if (!resolved.ok) return resolved;
  if (!target.ok) return { ok: false, error: target.error, host: resolved.host };
  return { ok: true, host: resolved.host, path: target.path };
}

/** True for a request that came over HTTP/2 (node's compat Http2ServerRequest, used through the http types). */
export function isHttp2(req: { httpVersionMajor: number }): boolean {
  return req.httpVersionMajor === 2;
}

/**
 * HTTP/2 (RFC 9113 §8.3.1): the host is `:authority` (a Host header only when it is absent); it
 * becomes the request's Host, which the backend gets over HTTP/1.1. The pseudo-headers stay on
 * the request (node reads `url` from `:path`); the proxy drops them from what it sends.
 */
function addressOfHttp2(req: http.IncomingMessage): Addressed {
  const authority = req.headers[':authority'];
  const host = typeof authority === 'string' && authority !== '' ? authority : req.headers.host;
  if (host?.includes(',')) return { ok: false, error: routerErrors.duplicateHost(host.split(',').map((h) => h.trim())) };
  if (host !== undefined) req.headers.host = host;
  const resolved = resolveHost(host);
  if (!resolved.ok) return resolved;
  const target = routingTarget(req.url);
  if (!target.ok) return { ok: false, error: target.error, host: resolved.host };
  return { ok: true, host: resolved.host, path: target.path };
}

/** A request whose body length node cannot know: a Transfer-Encoding that does not end in chunked (RFC 9112 §6.3). */
export function badTransferEncoding(req: http.IncomingMessage): RouterError | undefined {
  const te = req.headers['transfer-encoding'];
  if (te === undefined) return undefined;
  const last = te.split(',').at(-1)?.trim().toLowerCase();
  return last === 'chunked' ? undefined : routerErrors.badTransferEncoding(te);
}

/** The route host of a request, from its Host header. */
export function resolveHost(raw: string | undefined): HostResult {
  if (!raw || raw.trim() === '') return { ok: false, error: routerErrors.missingHost() };
  const host = normalizeHost(raw);
  return VALID_HOST.test(host) ? { ok: true, host } : { ok: false, error: routerErrors.invalidHost(raw) };
}

