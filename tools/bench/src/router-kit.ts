/**
 * Helpers of tools/bench/router: child processes killed by pid, free ports,
 * wrk output parsing, nginx configs and medians.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { pollUntil } from '@paas/local-services';

/** Service ports come from the platform's shared range (below the cells' DNAT-ed host ports). */
export { freePort } from '@paas/local-services';

/** True when a TCP connection to 127.0.0.1:port succeeds within 1 s. */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Status of one GET to 127.0.0.1:port with a Host header; 0 when it failed (2 s timeout). */
export function httpStatus(port: number, host: string, path = '/'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(2_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A child process started by the bench, with its output in a file. */
export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
}

/** Everything the bench started, to be stopped by pid in `finally`. */
export class Children {
  private readonly list: Child[] = [];

  /** Spawns `cmd args` with stdout and stderr appended to `logFile`; fails fast if it dies at once. */
  start(name: string, cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Child {
    const fd = openSync(logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
    } finally {
      closeSync(fd);
    }
    proc.on('error', () => undefined); // surfaces as an exit / a failed readiness poll
    const child = { name, proc, logFile };
    this.list.push(child);
    return child;
  }

  /** SIGTERM, then SIGKILL if it is still alive after `graceMs` (polled). */
  async stop(child: Child, graceMs = 5_000): Promise<void> {
    const { proc } = child;
    const idx = this.list.indexOf(child);
    if (idx >= 0) this.list.splice(idx, 1);
    if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      return;
    }
    try {
      await pollUntil(`${child.name} to exit`, () => proc.exitCode !== null || proc.signalCode !== null, { timeoutMs: graceMs, intervalMs: 20 });
    } catch {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await pollUntil(`${child.name} to die`, () => proc.exitCode !== null || proc.signalCode !== null, { timeoutMs: 2_000, intervalMs: 20 }).catch(() => undefined);
    }
  }

  /** Stops every child still running, most recent first. */
  async stopAll(): Promise<void> {
    for (const child of [...this.list].reverse()) await this.stop(child);
  }
}

/** True when `name` is on the PATH. */
export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface WrkResult {
  reqPerSec: number;
  /** Latency percentiles in ms. */
  p50: number;
  p99: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors: should be 0. */
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`cannot parse wrk duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** Reads req/s, p50/p99 and error counts from the output of `wrk --latency`. */
export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  const reqs = /(\d+) requests in/.exec(out);
  if (!rps || !p50 || !p99 || !reqs) throw new Error(`unexpected wrk output:\n${out}`);
  let errors = 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
  return { reqPerSec: Number(rps[1]), p50: durationMs(p50[1]), p99: durationMs(p99[1]), requests: Number(reqs[1]), errors };
}

export interface WrkOptions {
  threads: number;
  connections: number;
  durationS: number;
  host: string;
  /** Default http. */
  scheme?: 'http' | 'https';
  /** The URL's host, which wrk connects to and (https) sends as SNI; default 127.0.0.1 (no SNI). */
  connectHost?: string;
  /** More request headers, e.g. "Connection: close" for a new connection (and TLS handshake) per request. */
  headers?: string[];
}

/** Runs wrk against 127.0.0.1:port (bounded by -d, plus a kill deadline) and parses its output. */
export function runWrk(port: number, o: WrkOptions): Promise<WrkResult> {
  const extra = (o.headers ?? []).flatMap((h) => ['-H', h]);
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '-H', `Host: ${o.host}`, ...extra, `${o.scheme ?? 'http'}://${o.connectHost ?? '127.0.0.1'}:${port}/`];
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // wrk stops by itself after -d; this only guards against a hung wrk.
    const guard = setTimeout(() => proc.kill('SIGKILL'), (o.durationS + 15) * 1_000);
    proc.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    proc.on('close', (code) => {
      clearTimeout(guard);
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      try {
        resolve(parseWrk(out));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The backend's fixed body: 100 bytes. */
export const BACKEND_BODY = `${'hello from the bench backend '.repeat(4).slice(0, 99)}\n`;

function nginxPreamble(dir: string, workers: number): string {
  return `daemon off;
master_process on;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
`;
}

function nginxTempPaths(dir: string): string {
  return `  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
`;
}

/**
 * The backend: nginx answering a fixed 100-byte body from memory (`return 200`), one worker. It
 * costs a few µs per request, so neither proxy waits on it, and both proxies get the same one.
 */
export function backendNginxConf(dir: string, port: number): string {
  return `${nginxPreamble(dir, 1)}http {
  access_log off;
${nginxTempPaths(dir)}  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    default_type text/plain;
    location / { return 200 "${BACKEND_BODY.replace('\n', '\\n')}"; }
  }
}
`;
}

/**
 * The reference proxy: nginx in front of the same backend, with `workers` worker processes, a
 * keep-alive upstream pool, and the forwarding headers the router adds (X-Forwarded-*,
 * X-Request-Start, X-Request-Id, echoed on the response), so both do comparable work.
 */
export function proxyNginxConf(dir: string, port: number, backendPort: number, workers: number): string {
  return `${nginxPreamble(dir, workers)}http {
  access_log off;
${nginxTempPaths(dir)}  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Request-Start $msec;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
    }
  }
}
`;
}

/**
 * nginx as the reference TLS proxy: proxyNginxConf's proxy on a TLS port too (HTTP/2 and
 * HTTP/1.1 by ALPN), with the router's TLS settings: TLS 1.2 and 1.3, the same cipher list,
 * session tickets on (wrk never resumes, so every new connection is a full handshake).
 */
export function tlsProxyNginxConf(dir: string, port: number, tlsPort: number, backendPort: number, workers: number, certFile: string, keyFile: string, ciphers: string): string {
  const tls12 = ciphers.split(':').filter((c) => !c.startsWith('TLS_')).join(':');
  return proxyNginxConf(dir, port, backendPort, workers).replace(
    `    listen 127.0.0.1:${port} backlog=4096;\n`,
    `    listen 127.0.0.1:${port} backlog=4096;
    listen 127.0.0.1:${tlsPort} ssl http2 backlog=4096;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ${tls12};
    ssl_prefer_server_ciphers on;
    ssl_session_tickets on;
`,
  );
}

function statFields(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants (nginx workers, cluster workers), from /proc. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f) parentOf.set(Number(entry), Number(f[1]));
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, parent] of parentOf) if (parent === out[i]) out.push(child);
  return out;
}

const TICKS_PER_S = 100; // CLK_TCK on Linux

/** CPU seconds used so far by `pid` and its descendants: user, system (kernel), both. */
export function treeCpuSeconds(pid: number): { user: number; sys: number; total: number } {
  let user = 0;
  let sys = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (!f) continue;
    user += Number(f[11]); // utime (field 14)
    sys += Number(f[12]); // stime (field 15)
  }
  return { user: user / TICKS_PER_S, sys: sys / TICKS_PER_S, total: (user + sys) / TICKS_PER_S };
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}
