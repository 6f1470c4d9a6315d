import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { LOGGER, type Logger } from '../config/config.module';
import { TokenRepository } from './token.repository';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** API tokens are stored hashed; the admin token is created at first boot and kept in a 0600 file. */
@Injectable()
export class TokenService implements OnApplicationBootstrap {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly tokens: TokenRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    let token = (await readFile(this.config.adminTokenFile, 'utf8').catch(() => '')).trim();
    if (!token) {
      token = `paas_${randomBytes(24).toString('hex')}`;
      await mkdir(dirname(this.config.adminTokenFile), { recursive: true });
      await writeFile(this.config.adminTokenFile, token + '\n', { mode: 0o600 });
      this.logger.info({ file: this.config.adminTokenFile }, 'created the admin token');
    }
    await this.tokens.ensure('admin', hashToken(token));
  }

  async isValid(token: string): Promise<boolean> {
    if (!token) return false;
    return this.tokens.exists(hashToken(token));
  }

  /** Cells and git hooks prove themselves with the internal token. */
  isInternal(token: string | undefined): boolean {
    if (!token) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(this.config.internalToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
