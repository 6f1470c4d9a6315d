import { chmod, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { RunningPlatform } from './platform';

/**
 * `npm run restart:router` asks a running `npm start` for a rolling restart of its router
 * processes over a unix socket in the data directory (root's, 0600): it sends one line
 * `{"command":"restart-router"}`, the runner restarts the routers one by one
 * (RunningPlatform.restartRouters) and answers a line per step, then `done` or `failed`.
 * (No signal: Node keeps SIGUSR1 for its inspector and SIGUSR2 for diagnostic reports.)
 */
export const controlSocketOf = (dataDir: string) => join(dataDir, 'control.sock');

/** One line the runner answers. */
export interface ControlLine {
  event: 'progress' | 'done' | 'failed';
  message: string;
}

/** A listening control socket; `close` stops it and removes the socket file. */
export interface ControlServer {
  close(): Promise<void>;
}

/** In the runner: serves rolling restarts of the routers on the data dir's control socket, one at a time. */
export async function serveRouterRestarts(dataDir: string, platform: RunningPlatform, say: (message: string) => void): Promise<ControlServer> {
  const path = controlSocketOf(dataDir);
  // A runner that was killed left its socket file; startPlatform made sure none runs now.
  await rm(path, { force: true });
  let running = false;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    const send = (line: ControlLine) => socket.writable && socket.write(`${JSON.stringify(line)}\n`);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (!buffered.includes('\n')) return;
      const command = (() => {
        try {
          return (JSON.parse(buffered.slice(0, buffered.indexOf('\n'))) as { command?: unknown }).command;
        } catch {
          return undefined;
        }
      })();
      if (command !== 'restart-router') {
        send({ event: 'failed', message: 'unknown command: send {"command":"restart-router"}' });
        return socket.end();
      }
      if (running) {
        send({ event: 'failed', message: 'a router restart is already running: wait for it to finish' });
        return socket.end();
      }
      running = true;
      say(`rolling restart of ${platform.routers.length} router processes`);
      platform
        .restartRouters((message) => {
          say(message);
          send({ event: 'progress', message });
        })
        .then(
          () => send({ event: 'done', message: `restarted ${platform.routers.length} router processes` }),
          (error: Error) => {
            say(`router restart failed: ${error.message}`);
            send({ event: 'failed', message: error.message });
          },
        )
        .finally(() => {
          running = false;
          socket.end();
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }).then(() => rm(path, { force: true })),
  };
}

/**
 * In the command: asks the runner of `dataDir` for a rolling restart; `onProgress` gets each step.
 * Resolves with the last line (done or failed); rejects when no runner answers or after timeoutMs.
 */
export function requestRouterRestart(dataDir: string, timeoutMs: number, onProgress: (message: string) => void = () => undefined): Promise<ControlLine> {
  const path = controlSocketOf(dataDir);
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => socket.write(`${JSON.stringify({ command: 'restart-router' })}\n`));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the router restart did not finish within ${timeoutMs / 1000} s: see the platform's output and ${dataDir}/logs/router-*.log`));
    }, timeoutMs);
    let buffered = '';
    let last: ControlLine | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, end)) as ControlLine;
        buffered = buffered.slice(end + 1);
        if (line.event === 'progress') onProgress(line.message);
        else last = line;
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const absent = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
      reject(new Error(absent ? `no platform runs from ${dataDir} (nothing answers on ${path}): start it with npm start, or set PAAS_DATA_DIR` : `${path}: ${error.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (last) resolve(last);
      else reject(new Error(`the platform of ${dataDir} closed the control socket without an answer: see its output`));
    });
  });
}
