/**
 * A connection URL fit for a log line or an error message: the password of its user part (the
 * `secret` of `redis://paas:secret@host:6380`) replaced with `***`; anything else is kept. Works on
 * strings that are not valid URLs too, so an error path never prints a password.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i, '$1:***@');
}
