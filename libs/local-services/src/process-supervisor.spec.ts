/**
 * SupervisedProcess with a readiness message, on real child processes (node -e): it waits for
 * `ready`, restarts a child that dies, and `replace` swaps in a new child only once it is ready,
 * keeping the old one when the new one never gets there.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './pid';
import { SupervisedProcess } from './process-supervisor';

/** A component whose next start reads `mode` from a file: `ready` says so, `never` stays silent, `exit` dies first. */
const SCRIPT = `
const mode = require('node:fs').readFileSync(process.env.MODE_FILE, 'utf8').trim();
if (mode === 'exit') process.exit(4);
if (mode === 'ready') setTimeout(() => process.send({ type: 'test:ready', pid: process.pid }), 50);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => undefined, 1000);
`;


describe('SupervisedProcess readiness and replace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'supervisor-spec-'));
  const modeFile = join(dir, 'mode');
  /** Pids of the component's processes (their environment names our mode file). */
  const running = () =>
    readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          return readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`MODE_FILE=${modeFile}`);
        } catch {
          return false;
        }
      })
      .map(Number);
  const mode = (m: 'ready' | 'never' | 'exit') => writeFileSync(modeFile, m);
  const proc = new SupervisedProcess({
    name: 'component',
    command: process.execPath,
    args: ['-e', SCRIPT],
    env: { MODE_FILE: modeFile },
    logFile: join(dir, 'component.log'),
    restart: true,
    stopTimeoutMs: 5_000,
    readyMessage: 'test:ready',
  });

  after(async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for the ready message, also through a restart of a child that died first', async () => {
    mode('never');
    proc.start();
    await assert.rejects(proc.whenReady(300), /was not ready within 300 ms/);
    mode('ready');
    process.kill(proc.pid!, 'SIGKILL');
    await proc.whenReady(10_000);
    assert.ok(pidAlive(proc.pid!));
  });

  it('replace: the new child serves once ready, the old one is stopped', async () => {
    const old = proc.pid!;
    await proc.replace(10_000);
    assert.notEqual(proc.pid, old);
    assert.ok(pidAlive(proc.pid!));
    assert.equal(pidAlive(old), false, 'the old child exited');
  });

  it('replace: a new child that is never ready is killed and the old one keeps running', async () => {
    const old = proc.pid!;
    mode('never');
    await assert.rejects(proc.replace(300), /not ready within 300 ms: the old one keeps running/);
    assert.equal(proc.pid, old);
    assert.deepEqual(running(), [old], 'the silent replacement was killed, the old child runs');
    mode('exit');
    await assert.rejects(proc.replace(10_000), /exited \(4\) before it was ready/);
    assert.equal(proc.pid, old);
    assert.ok(pidAlive(old));
  });

  it('stop ends the child and no restart follows', async () => {
    const pid = proc.pid!;
    await proc.stop();
    assert.equal(pidAlive(pid), false);
    assert.equal(proc.pid, undefined);
  });
});
