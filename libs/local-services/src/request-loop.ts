import { Agent, request } from 'node:http';

export interface RequestLoopOptions {
  /** Where the requests go: always 127.0.0.1 (tests and benches talk to loopback only). */
  port: number;
  /** The Host header (the route). */
  host: string;
  path?: string;
  /** Clients that each keep one connection alive across their requests. */
  keepAliveClients: number;
  /** Clients that open a new connection for every request (`connection: close`). */
  freshClients: number;
  /** Bounds: the loop ends after this many requests in all, or this long, whichever comes first. */
  maxRequests: number;
  maxMs: number;
  /** Pause of each client between its requests (default 2 ms). */
  pauseMs?: number;
  /** A request not answered in full by then fails (default 5 s). */
  timeoutMs?: number;
}

/** What a loop saw: failures (status other than 200, or a transport error) out of total. */
export interface RequestLoopResult {
  total: number;
  failed: number;
  /** The first 20 failures, as `status message`. */
  failures: string[];
  /** The longest stretch in which no request succeeded, ms (between consecutive successes). */
  gapMs: number;
  durationMs: number;
}

export interface RunningRequestLoop {
  /** Successful requests so far. */
  ok(): number;
  /** Ends the loop (each client finishes its current request) and returns what it saw. */
  stop(): Promise<RequestLoopResult>;
}

/**
 * A bounded request loop: `keepAliveClients + freshClients` clients send GETs to 127.0.0.1:port
 * one after the other, until `maxRequests` in all, `maxMs`, or `stop()`. It measures how many
 * failed and the longest time without a success, for restarts of what answers them.
 */
export function startRequestLoop(options: RequestLoopOptions): RunningRequestLoop {
  const startedAt = Date.now();
  const deadline = startedAt + options.maxMs;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pauseMs = options.pauseMs ?? 2;
  let stopped = false;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  const successes: number[] = [];

  const once = (agent: Agent | false) =>
    new Promise<{ status: number; error?: string }>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: options.port, path: options.path ?? '/', headers: { host: options.host }, agent, timeout: timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', (error) => resolve({ status: 0, error: error.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
      req.end();
    });

  const client = async (keepAlive: boolean) => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    try {
      while (!stopped && sent < options.maxRequests && Date.now() < deadline) {
        sent += 1;
        const answer = await once(agent);
        if (answer.status === 200) {
          ok += 1;
          successes.push(Date.now());
        } else {
          failed += 1;
          if (failures.length < 20) failures.push(`${answer.status} ${answer.error ?? ''} (${keepAlive ? 'keep-alive' : 'new connection'}, at ${Date.now() - startedAt} ms)`.trim());
        }
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } finally {
      if (agent) agent.destroy();
    }
  };

  const clients = [
    ...Array.from({ length: options.keepAliveClients }, () => client(true)),
    ...Array.from({ length: options.freshClients }, () => client(false)),
  ];
  const done = Promise.all(clients).then((): RequestLoopResult => {
    const endedAt = Date.now();
    successes.sort((a, b) => a - b);
    let gapMs = successes.length === 0 ? endedAt - startedAt : 0;
    for (let i = 1; i < successes.length; i++) gapMs = Math.max(gapMs, successes[i]! - successes[i - 1]!);
    return { total: ok + failed, failed, failures, gapMs, durationMs: endedAt - startedAt };
  });
  return {
    ok: () => ok,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}
