import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { LOGGER, type Logger } from '../platform/config/config.module';
import type { Actor } from './actor';
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
      token = TokenService.generate();
      await mkdir(dirname(this.config.adminTokenFile), { recursive: true });
      await writeFile(this.config.adminTokenFile, token + '\n', { mode: 0o600 });
      this.logger.info({ event: 'admin-token-created', file: this.config.adminTokenFile }, 'created the admin token');
    }
    await this.tokens.ensureAdmin(hashToken(token));
  }

  /** The user a token belongs to, or undefined for an unknown token. */
  async actorOf(token: string): Promise<Actor | undefined> {
    if (!token) return undefined;
    return this.tokens.actorOf(hashToken(token));
  }

  /** A new random token; only its hash is stored. */
  static generate(): string {
    return `paas_${randomBytes(24).toString('hex')}`;
  }

  /** Cells and git hooks prove themselves with the internal token. */
  isInternal(token: string | undefined): boolean {
    if (!token) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(this.config.internalToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
