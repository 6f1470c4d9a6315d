/**
 * The one shape of a log line, in every process (router, cell, controller): pino JSON where the
 * message is the kebab-case event (`"event":"router-stopping","msg":"router-stopping"`) and any
 * human sentence is in `detail`. Applied by a pino `hooks.logMethod` in each logger factory, so a
 * call site writes either `logger.info({ event: 'router-stopping' }, 'stopping router')` or
 * `logger.info({ ... }, 'router-stopping')`; both give the same line. See docs/logs.md.
 */

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The event a message names: itself when kebab-case, else the sentence kebab-cased (at most 64 characters). */
export function eventOfMessage(message: string): string {
  if (KEBAB.test(message)) return message;
  const derived = message
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 64)
    .replace(/^-+|-+$/g, '');
  return derived || 'log';
}

/**
 * The arguments of one pino log call rewritten to the shape above: `(fields?, message?, ...more)`
 * in, `(fields with event and maybe detail, event)` out. An Error as the first argument becomes
 * `err`. A call with neither an event nor a message is left as it is.
 */
export function toEventLogArgs(args: readonly unknown[]): unknown[] {
  const [first, ...rest] = args;
  // The common case, already in shape (the router's access line per request): nothing to build.
  if (rest.length === 1 && typeof rest[0] === 'string' && (first as { event?: unknown } | null)?.event === rest[0]) return args as unknown[];
  let fields: Record<string, unknown>;
  let message: unknown;
  let more: unknown[];
  if (first instanceof Error) [fields, message, more] = [{ err: first }, rest[0], rest.slice(1)];
  else if (typeof first === 'object' && first !== null) [fields, message, more] = [first as Record<string, unknown>, rest[0], rest.slice(1)];
  else [fields, message, more] = [{}, first, rest];
  const given = typeof fields.event === 'string' && fields.event ? fields.event : undefined;
  const text = typeof message === 'string' ? [message, ...more.map(String)].join(' ') : undefined;
  if (given === undefined && text === undefined) return [...args];
  const event = given ?? eventOfMessage(text!);
  if (fields.event === event && (text === undefined || text === event)) return [fields, event];
  return [text === undefined || text === event ? { ...fields, event } : { ...fields, event, detail: text }, event];
}

/** pino `hooks` for a logger factory: every line gets the shape above (child loggers inherit it). */
export const eventLogHooks = {
  logMethod(this: unknown, args: unknown[], method: (...args: unknown[]) => void): void {
    method.apply(this, toEventLogArgs(args));
  },
};
