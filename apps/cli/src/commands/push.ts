import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError } from '@paas/api-client';
import type { AppView } from '@paas/contracts';
import { CliError, Context, UsageError } from '../context';
import { packSource } from '../push/pack';
import { listSourceFiles } from '../push/source-files';
import { formatBytes } from '../ui/format';

/** The name of the manifest's only (or first named) app, if the directory has a manifest.yml. */
async function manifestAppName(dir: string): Promise<string | undefined> {
  for (const file of ['manifest.yml', 'manifest.yaml']) {
    const text = await readFile(join(dir, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      const doc = parseYaml(text) as { applications?: Array<{ name?: unknown }> } | null;
      const named = (doc?.applications ?? []).filter((a) => typeof a?.name === 'string');
      return named.length >= 1 ? String(named[0].name) : undefined;
    } catch {
      return undefined; // the platform reports an invalid manifest on push
    }
  }
  return undefined;
}

function git(args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  if (r.error) throw new CliError(`cannot run git: ${r.error.message}; install git, or push with --upload`);
  return { code: r.status ?? 1, out: (r.stdout ?? '').trim() };
}

/** The app, created (in the targeted space) when it does not exist yet, as `cf push` does. */
async function appToPush(ctx: Context, name: string): Promise<AppView> {
  const api = await ctx.api();
  try {
    return await api.getApp(name);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  const target = await ctx.target();
  const app = await api.createApp(name, target?.space ? { space_id: target.space.id } : {});
  ctx.note(`created app ${app.name} in ${app.org_name}/${app.space_name}`);
  return app;
}

async function pushWithGit(ctx: Context, app: AppView, dir: string, force: boolean): Promise<void> {
  const { token } = await ctx.login();
  if (git(['rev-parse', '--verify', '-q', 'HEAD'], dir).code !== 0) {
    throw new CliError('the git repository has no commit yet: commit the app (git add -A && git commit -m "first") or push the directory as it is with --upload');
  }
  if (git(['status', '--porcelain'], dir).out !== '') {
    ctx.note(ctx.errColor.yellow('note: uncommitted changes are not pushed (git pushes commits): commit them, or push the directory as it is with --upload'));
  }
  const url = new URL(app.git_url);
  url.username = 'paas';
  url.password = token;
  if (git(['remote', 'get-url', 'paas'], dir).code === 0) {
    if (git(['remote', 'set-url', 'paas', url.toString()], dir).code !== 0) throw new CliError('could not update the "paas" git remote');
  } else if (git(['remote', 'add', 'paas', url.toString()], dir).code !== 0) {
    throw new CliError('could not add the "paas" git remote');
  }
  const head = git(['rev-parse', 'HEAD'], dir).out;
  const remote = git(['ls-remote', 'paas', 'refs/heads/main'], dir);
  if (remote.code === 0 && remote.out.split(/\s+/)[0] === head) {
    ctx.print(`${app.name} already runs ${head.slice(0, 7)} (HEAD): nothing to push. Commit a change, or restart it with paas restart ${app.name}`);
    return;
  }
  ctx.note(`pushing ${head.slice(0, 7)} to ${app.name} with git (remote "paas")`);
  const pushed = spawnSync('git', ['push', ...(force ? ['--force'] : []), 'paas', 'HEAD:main'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  });
  if (pushed.error) throw new CliError(`cannot run git: ${pushed.error.message}`);
  if (pushed.status !== 0) throw new CliError(`push to ${app.name} failed: see the output above`);
}

async function pushUpload(ctx: Context, app: AppView, dir: string): Promise<void> {
  const api = await ctx.api();
  const files = await listSourceFiles(dir);
  if (files.length === 0) throw new CliError(`nothing to push in ${dir}: it is empty, or .gitignore/.cfignore exclude every file`);
  const work = await mkdtemp(join(tmpdir(), 'paas-push-'));
  try {
    const archive = join(work, 'source.tgz');
    const spinner = ctx.spinner(`packing ${files.length} files`);
    let size: number;
    try {
      size = await packSource(dir, files, archive);
    } finally {
      spinner.stop();
    }
    const raw = files.reduce((sum, f) => sum + f.size, 0);
    ctx.note(`packed ${files.length} files of ${dir} (${formatBytes(raw)}, ${formatBytes(size)} compressed; .gitignore and .cfignore respected)`);
    const bar = ctx.progress(`uploading to ${app.name}`, size);
    let uploaded = false;
    const result = await api.uploadSource(app.id, createReadStream(archive), {
      onProgress: (sent) => bar.update(sent),
      onLine: (line) => {
        if (!uploaded) {
          uploaded = true;
          bar.finish();
        }
        ctx.print(line);
      },
    });
    if (!uploaded) bar.finish();
    if (!result.ok) throw new CliError(`push to ${app.name} failed: see the output above`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function registerPush(program: Command, ctx: Context): void {
  program
    .command('push [name]')
    .description('deploy the app in this directory: git push when it is a git repository, else upload it as a source package')
    .option('-p, --path <dir>', 'the app directory', '.')
    .option('--upload', 'upload the directory as it is (respecting .gitignore and .cfignore), even in a git repository')
    .option('--force', 'git push --force (after history was rewritten)')
    .addHelpText(
      'after',
      '\nNAME defaults to the name in manifest.yml; an app that does not exist yet is created (in the targeted space).\n' +
        'In the root of a git repository, HEAD is pushed with git to the remote "paas" (added or updated, with your token), so the\n' +
        'build output streams live. Anywhere else the directory is packed (without what .gitignore and .cfignore exclude),\n' +
        'uploaded with a progress bar, and the build output streams back the same way. Exit code 0 only when the new release runs.',
    )
    .action(async (nameArg: string | undefined, o: { path: string; upload?: boolean; force?: boolean }) => {
      const dir = await realpath(resolve(o.path)).catch(() => {
        throw new UsageError(`no directory ${o.path}`);
      });
      const name = nameArg ?? (await manifestAppName(dir));
      if (!name) throw new UsageError(`give the app's name: paas push NAME (or name it in manifest.yml); ${basename(dir)} is this directory's`);
      const app = await appToPush(ctx, name);
      const top = git(['rev-parse', '--show-toplevel'], dir);
      const inRepo = top.code === 0;
      const atRoot = inRepo && (await realpath(top.out).catch(() => top.out)) === dir;
      if (!o.upload && atRoot) return pushWithGit(ctx, app, dir, !!o.force);
      if (!o.upload && inRepo) ctx.note(`${dir} is inside the git repository ${top.out}, not its root: uploading the directory instead`);
      return pushUpload(ctx, app, dir);
    });
}
