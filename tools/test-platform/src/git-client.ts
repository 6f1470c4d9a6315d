import { execFile } from 'node:child_process';

/** Runs the real git client; resolves with its exit code and combined output. */
export function git(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = execFile(
      'git',
      args,
      { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', HOME: cwd }, timeout: 300_000 },
      () => undefined,
    );
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('close', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

/** Makes a git repository from a directory's files, with one commit on main. */
export async function commitDir(dir: string, message = 'deploy'): Promise<void> {
  const steps: string[][] = [
    ['init', '--quiet', '--initial-branch=main'],
    ['add', '-A'],
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '--quiet', '--allow-empty', '-m', message],
  ];
  for (const args of steps) {
    const r = await git(args, dir);
    if (r.code !== 0 && !(args[0] === 'init' && r.output.includes('Reinitialized'))) throw new Error(`git ${args.join(' ')}: ${r.output}`);
  }
}

