import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningPlatform } from './platform';

/**
 * `npm run restart:router` asks a running `npm start` for a rolling restart of its router
 * processes: it writes a request (an id) into the data directory and sends the runner SIGUSR2;
 * the runner restarts the routers one by one (RunningPlatform.restartRouters) and writes the
 * outcome under that id, which the command waits for and prints.
 */
export const ROUTER_RESTART_SIGNAL = 'SIGUSR2';

const requestFile = (dataDir: string) => join(dataDir, 'router-restart.request');
const outcomeFile = (dataDir: string) => join(dataDir, 'router-restart.json');

interface Outcome {
  id: string;
  state: 'running' | 'done' | 'failed';
  message: string;
}

/** In the runner: restarts the routers on each ROUTER_RESTART_SIGNAL, one restart at a time. */
export function serveRouterRestarts(dataDir: string, platform: RunningPlatform, say: (message: string) => void): void {
  let running: Promise<void> | undefined;
  process.on(ROUTER_RESTART_SIGNAL, () => {
    if (running) return say('a router restart is already running');
    running = (async () => {
      const id = (await readFile(requestFile(dataDir), 'utf8').catch(() => '')).trim() || 'signal';
      const write = (outcome: Outcome) => writeFile(outcomeFile(dataDir), JSON.stringify(outcome), { mode: 0o600 });
      await write({ id, state: 'running', message: 'restarting the router processes one by one' });
      say(`rolling restart of ${platform.routers.length} router processes`);
      try {
        const steps: string[] = [];
        await platform.restartRouters((message) => {
          steps.push(message);
          say(message);
        });
        await write({ id, state: 'done', message: steps.join('\n') });
      } catch (error) {
        say(`router restart failed: ${(error as Error).message}`);
        await write({ id, state: 'failed', message: (error as Error).message });
      }
    })().finally(() => (running = undefined));
  });
}

/** In the command: asks the runner whose pid is in `dataDir/platform.pid` and waits for its answer. */
export async function requestRouterRestart(dataDir: string, timeoutMs: number): Promise<Outcome> {
  const pid = Number((await readFile(join(dataDir, 'platform.pid'), 'utf8').catch(() => '')).trim());
  if (!pid) throw new Error(`no platform runs from ${dataDir} (no platform.pid): start it with npm start, or set PAAS_DATA_DIR`);
  const id = randomUUID();
  await rm(outcomeFile(dataDir), { force: true });
  await writeFile(requestFile(dataDir), id, { mode: 0o600 });
  try {
    process.kill(pid, ROUTER_RESTART_SIGNAL);
  } catch {
    throw new Error(`the platform of ${dataDir} (pid ${pid}) is not running: start it with npm start`);
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(outcomeFile(dataDir), 'utf8').catch(() => '');
    const outcome = text ? (JSON.parse(text) as Outcome) : undefined;
    if (outcome?.id === id && outcome.state !== 'running') return outcome;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the router restart did not finish within ${timeoutMs / 1000} s: see the platform's output and ${dataDir}/logs/router-*.log`);
}
