/**
 * The one normal form of URL paths, shared by the router (which matches requests on it) and the
 * controller (which stores route paths in it), so that a route path and the requests it serves are
 * compared the same way on both sides.
 *
 * Normal form (RFC 3986 §6.2.2, plus merged slashes):
 * - percent-escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded ("/%61pi" is "/api");
 *   every other escape keeps its byte with uppercase hex ("%c3%a9" is "%C3%A9");
 * - printable ASCII that may not appear literally in a path segment ('"', '<', '>', '[', ']', '^',
 *   '`', '{', '|', '}') is percent-encoded;
 * - runs of "/" are merged ("//api" is "/api"), then "." and ".." segments are removed (RFC 3986
 *   §5.2.4: "/x/../api" is "/api"; ".." never climbs above "/"); a trailing "/" stays.
 *
 * A path is ambiguous, and has no normal form, when backends disagree on what it means: an encoded
 * "/" (%2F) or "\" (%5C), an encoded or literal control character (%00-%1F, %7F), a literal "\",
 * an invalid escape ("%zz", a lone "%"), a literal non-ASCII character, a "#", or a dot segment
 * with parameters ("..;", which Tomcat reads as ".."). The router answers those with 400.
 */

/** Either the normal form of a path, or why it has none. */
export type PathNormalization = { ok: true; path: string } | { ok: false; problem: string };

/** The rule for route paths, as the API and manifests state it. */
export const ROUTE_PATH_RULE =
  'a route path is "" (the whole host) or "/segment[/segment...]" in normal form: no trailing "/", no empty, "." or ".." segments, ' +
  'unreserved characters (A-Z a-z 0-9 - . _ ~) written as themselves and other characters percent-encoded with uppercase hex (like %C3%A9), ' +
  'never %2F, %5C or a control character, no "?", "#" or "\\", at most 128 characters';

/** Longest route path the API stores. */
export const ROUTE_PATH_MAX_LENGTH = 128;

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** Characters a path segment may hold literally (pchar without '%', RFC 3986 §3.3). */
const LITERAL = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * A path already in normal form with nothing to decode (the common request): literal characters
 * only, no empty, "." or ".." segment, no dot segment with parameters. Checked in one regex.
 */
const PLAIN = /^(?:\/(?!\.\.?(?:[/;]|$))[A-Za-z0-9\-._~!$&'()*+,;=:@]+)*\/?$/;

const hex2 = (code: number) => code.toString(16).toUpperCase().padStart(2, '0');

function controlName(code: number): string {
  return `%${hex2(code)} (a control character)`;
}

/**
 * The normal form of a URL path (no query: split it off first). Input is the request target as an
 * HTTP/1.1 server reads it, one character per byte. Pure; safe for any string.
 */
export function normalizeRequestPath(raw: string): PathNormalization {
  if (!raw.startsWith('/')) return { ok: false, problem: 'it does not start with "/"' };
  if (PLAIN.test(raw)) return { ok: true, path: raw };
  let decoded = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    const code = c.charCodeAt(0);
    if (c === '%') {
      const digits = raw.slice(i + 1, i + 3);
      if (!HEX.test(digits)) return { ok: false, problem: `it has an invalid percent-escape "${raw.slice(i, i + 3)}" (a "%" must be followed by two hex digits)` };
      const byte = parseInt(digits, 16);
      i += 2;
      if (byte === 0x2f) return { ok: false, problem: 'it has %2F (an encoded "/")' };
      if (byte === 0x5c) return { ok: false, problem: 'it has %5C (an encoded "\\")' };
      if (byte < 0x20 || byte === 0x7f) return { ok: false, problem: `it has ${controlName(byte)}` };
      const ch = String.fromCharCode(byte);
      decoded += UNRESERVED.test(ch) ? ch : `%${hex2(byte)}`;
    } else if (c === '\\') {
      return { ok: false, problem: 'it has a "\\"' };
    } else if (c === '#') {
      return { ok: false, problem: 'it has a "#"' };
    } else if (code < 0x20 || code === 0x7f) {
      return { ok: false, problem: `it has a literal ${controlName(code)}` };
    } else if (code > 0x7e) {
      return { ok: false, problem: 'it has a literal non-ASCII character (percent-encode it as UTF-8, like %C3%A9)' };
    } else if (c === '/' || LITERAL.test(c)) {
      decoded += c;
    } else {
      decoded += `%${hex2(code)}`;
    }
  }
  const segments = decoded.slice(1).split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (/^\.\.?;/.test(segment)) return { ok: false, problem: `it has the dot segment with parameters "${segment}"` };
    if (segment === '' || segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      if (last) trailingSlash = true;
      continue;
    }
    out.push(segment);
  }
  return { ok: true, path: '/' + out.join('/') + (trailingSlash && out.length > 0 ? '/' : '') };
}

/**
 * Why `path` is not a route path in normal form, naming the fix (its normal form when it has one);
 * undefined when it is one. '' (the whole host) is one.
 */
export function routePathProblem(path: string): string | undefined {
  if (path === '') return undefined;
  if (path.length > ROUTE_PATH_MAX_LENGTH) return `path is longer than ${ROUTE_PATH_MAX_LENGTH} characters: ${ROUTE_PATH_RULE}`;
  if (path.includes('?')) return `path "${path}" has a "?": a route matches every query; ${ROUTE_PATH_RULE}`;
  const normal = normalizeRequestPath(path);
  if (!normal.ok) return `path "${path}" is ambiguous: ${normal.problem}; ${ROUTE_PATH_RULE}`;
  const canonical = normal.path === '/' ? '' : normal.path.replace(/\/$/, '');
  if (canonical !== path) {
    return `path "${path}" is not in normal form: write it as ${canonical === '' ? '"" (the whole host)' : `"${canonical}"`}; ${ROUTE_PATH_RULE}`;
  }
  return undefined;
}

/**
 * The route path that serves the same requests as `path` (normal form, no trailing "/", '' for
 * the whole host); undefined when it is ambiguous. For paths stored before the normal form.
 */
export function canonicalRoutePath(path: string): string | undefined {
  if (path === '' || path === '/') return '';
  const normal = normalizeRequestPath(path.startsWith('/') ? path : `/${path}`);
  if (!normal.ok) return undefined;
  return normal.path === '/' ? '' : normal.path.replace(/\/$/, '');
}
