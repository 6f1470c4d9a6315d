import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the hook (as git would, in a repository) against a controller that answers with `serve`. */
async function runHook(serve: (res: import('node:http').ServerResponse) => void): Promise<{ code: number | null; out: string }> {
  const repo = await mkdtemp(join(tmpdir(), 'paas-hook-test-'));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => serve(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo }).toString().trim();
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'x');
    const sha = git('rev-parse', 'HEAD');
    const hook = spawn(process.execPath, [join(__dirname, 'pre-receive-hook.js')], {
      cwd: repo,
      env: { ...process.env, PAAS_APP_NAME: 'hooked', PAAS_CONTROLLER_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, PAAS_INTERNAL_TOKEN: 'x' },
    });
    let out = '';
    hook.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    hook.stdin.end(`${'0'.repeat(40)} ${sha} refs/heads/main\n`);
    const timer = setTimeout(() => hook.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => hook.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, out };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(repo, { recursive: true, force: true });
  }
}

test('when the controller running the build dies mid-stream, the hook says so and rejects the push', async () => {
  const { code, out } = await runHook((res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('-----> Staging hooked on cell c1\n');
    // As a killed process: the connection is cut, no result line.
    setTimeout(() => res.socket?.destroy(), 50);
  });
  assert.equal(code, 1);
  assert.match(out, /-----> Staging hooked on cell c1/);
  assert.match(out, /the controller running this build stopped before the build ended \(its connection closed\): see GET \/v1\/apps\/hooked\/builds/);
});

test('a result line decides the exit code', async () => {
  const ok = await runHook((res) => res.end('-----> done\nPAAS-RESULT ok\n'));
  assert.equal(ok.code, 0);
  assert.doesNotMatch(ok.out, /stopped before the build ended/);
  const failed = await runHook((res) => res.end('!     boom\nPAAS-RESULT failed\n'));
  assert.equal(failed.code, 1);
});
