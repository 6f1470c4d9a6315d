import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from '@paas/runtime';
import { fakeListens, fakeOutput, fakeTaskRun } from './fake-behaviours';

/** A container whose start command (launchCommand's last argument) is `command`. */
const running = (command: string): ContainerSpec => ({
  id: 'c1',
  layers: [],
  command: ['/bin/sh', '-c', 'exec "$@"', 'launch', command],
  cwd: '/home/vcap/app',
  env: {},
  user: { uid: 2000, gid: 2000 },
  memoryMb: 256,
  pidsLimit: 1024,
});

/** Runs a fake task, collecting what it prints. */
async function task(command: string, stopped: AbortSignal, timeoutMs = 60_000) {
  const lines: string[] = [];
  const result = await fakeTaskRun(running(command), { onLine: (line) => lines.push(line), timeoutMs }, stopped);
  return { result, lines };
}

describe('fake behaviours', () => {
  it('an instance prints the echo steps of its command when it starts; nobind never listens', () => {
    const spec = running('echo server starting; echo listening on port 3000; nobind');
    assert.deepEqual(fakeOutput(spec), ['server starting', 'listening on port 3000']);
    assert.equal(fakeListens(spec), false);
    assert.deepEqual(fakeOutput(running('node server.js')), []);
  });

  it('a task prints its echos and exits with its exit N', async () => {
    assert.deepEqual(await task('echo one; echo two; exit 3', new AbortController().signal), { result: { exitCode: 3 }, lines: ['one', 'two'] });
    assert.deepEqual(await task('echo done', new AbortController().signal), { result: { exitCode: 0 }, lines: ['done'] });
  });

  it('a task that sleeps waits until it is stopped, or ends at its timeout', async () => {
    const stop = new AbortController();
    let ended = false;
    const sleeping = task('echo long migration; sleep; echo never', stop.signal).then((outcome) => ((ended = true), outcome));
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ended, false, 'still sleeping: a task that did not wait would have ended by now');
    stop.abort();
    assert.deepEqual((await sleeping).lines, ['long migration']);
    assert.deepEqual((await task('sleep', new AbortController().signal, 10)).result, { exitCode: 137, reason: 'timeout' });
  });
});
