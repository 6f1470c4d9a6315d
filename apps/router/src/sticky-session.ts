/**
 * Sticky sessions as in Cloud Foundry's gorouter: when an app's response sets a session cookie
 * (`JSESSIONID`), the router adds `__VCAP_ID__=<instance id>`; a later request carrying that
 * cookie goes to that instance while it is a live endpoint of the route, and elsewhere (with the
 * cookie rewritten) once it is not. Pure functions over header values.
 */

/** The cookie an app sets to ask for sticky sessions. */
export const SESSION_COOKIE = 'JSESSIONID';
/** The cookie the router sets, naming the instance. */
export const STICKY_COOKIE = '__VCAP_ID__';

/** Instance ids are UUID-like tokens; anything else in the cookie is ignored. */
const INSTANCE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Values of the cookie `name` in a request's `Cookie` header(s), in order. */
export function requestCookieValues(header: string | string[] | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      values.push(value);
    }
  }
  return values;
}

/** The instance a request asks to stick to (its `__VCAP_ID__` cookie), if it names a plausible one. */
export function stickyInstanceOf(cookieHeader: string | string[] | undefined): string | undefined {
  return requestCookieValues(cookieHeader, STICKY_COOKIE).find((v) => INSTANCE_ID.test(v));
}

/** The `Set-Cookie` line of a response that sets the session cookie, if any. */
export function sessionCookieOf(setCookie: readonly string[] | undefined): string | undefined {
  return setCookie?.find((line) => {
    const eq = line.indexOf('=');
    return eq > 0 && line.slice(0, eq).trim() === SESSION_COOKIE;
  });
}

/** Attributes copied from the session cookie so both cookies live and travel alike. */
const COPIED_ATTRIBUTES = new Set(['max-age', 'expires', 'secure', 'samesite', 'partitioned']);

/**
 * The `Set-Cookie` line naming `instanceId`: `Path=/; HttpOnly`, plus the lifetime and the
 * Secure/SameSite/Partitioned attributes of the app's session cookie line when given.
 */
export function stickyCookieLine(instanceId: string, sessionCookie?: string): string {
  const attributes = ['Path=/', 'HttpOnly'];
  for (const part of (sessionCookie ?? '').split(';').slice(1)) {
    const attribute = part.trim();
    const name = attribute.split('=')[0]?.trim().toLowerCase() ?? '';
    if (COPIED_ATTRIBUTES.has(name)) attributes.push(attribute);
  }
  return `${STICKY_COOKIE}=${instanceId}; ${attributes.join('; ')}`;
}

/**
 * The `Set-Cookie` line the router adds to a response from `servedBy`: when the app set its
 * session cookie, or when the request stuck to another instance (gone now) so its cookie must be
 * rewritten. Undefined when the response needs none.
 */
export function stickyCookieFor(setCookie: readonly string[] | undefined, requested: string | undefined, servedBy: string): string | undefined {
  const session = sessionCookieOf(setCookie);
  if (session) return stickyCookieLine(servedBy, session);
  if (requested !== undefined && requested !== servedBy) return stickyCookieLine(servedBy);
  return undefined;
}
