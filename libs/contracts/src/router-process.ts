/**
 * The Node flags every router process runs with (before its script: `node <flags> main.js`).
 *
 * `--max-semi-space-size=2` caps V8's young generation at 2 MB a semi-space. Under a flood
 * through the router, the default (growing to 16 MB and more) made each scavenge stop the process
 * for 10 to 13 ms, three times a second, and every app's requests waited those pauses out; at
 * 2 MB the scavenges are more frequent but take 1 to 2 ms (tools/bench: `bench:fairness`).
 */
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** The flags of ROUTER_NODE_FLAGS that a process started with `execArgv` and NODE_OPTIONS lacks. */
export function missingRouterNodeFlags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((f) => f !== ''));
  return ROUTER_NODE_FLAGS.filter((flag) => !given.has(flag));
}
