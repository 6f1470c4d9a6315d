import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';

const run = promisify(execFile);

/** The bare git repository of each app, and the shared pre-receive hook that stages pushes. */
@Injectable()
export class GitRepositoriesService implements OnModuleInit {
  readonly reposDir: string;
  readonly hooksDir: string;

  constructor(@Inject(CONTROLLER_CONFIG) config: ControllerConfig) {
    this.reposDir = join(config.blobstoreDir, 'repos');
    this.hooksDir = join(config.blobstoreDir, 'git-hooks');
  }

  async onModuleInit(): Promise<void> {
    await mkdir(this.reposDir, { recursive: true });
    await mkdir(this.hooksDir, { recursive: true });
    // The hook runs the compiled hook program on the same Node as the controller.
    const hook = `#!/bin/sh\nexec "${process.execPath}" "${join(__dirname, 'pre-receive-hook.js')}"\n`;
    await writeFile(join(this.hooksDir, 'pre-receive'), hook, { mode: 0o755 });
  }

  pathOf(appName: string): string {
    return join(this.reposDir, `${appName}.git`);
  }

  /** Creates the app's bare repository; safe to call when it exists. */
  async create(appName: string): Promise<void> {
    const dir = this.pathOf(appName);
    if (await stat(join(dir, 'HEAD')).catch(() => undefined)) return;
    await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
    await run('git', ['-C', dir, 'config', 'core.hooksPath', this.hooksDir]);
    await run('git', ['-C', dir, 'config', 'http.receivepack', 'true']);
    await run('git', ['-C', dir, 'config', 'receive.denyDeletes', 'true']);
  }

  /** Moves the repository along with an app rename. */
  async rename(from: string, to: string): Promise<void> {
    if (await stat(this.pathOf(from)).catch(() => undefined)) await rename(this.pathOf(from), this.pathOf(to));
    else await this.create(to);
  }

  async remove(appName: string): Promise<void> {
    await rm(this.pathOf(appName), { recursive: true, force: true });
  }
}
