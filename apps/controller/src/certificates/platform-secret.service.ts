import { Inject, Injectable } from '@nestjs/common';
import { openSecret, sealSecret } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/**
 * Seals and opens private keys with the platform secret key (PAAS_SECRET_KEY_FILE). Without the
 * key every certificate feature answers a 422 `not-configured` naming the variable.
 */
@Injectable()
export class PlatformSecretService {
  constructor(@Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig) {}

  get configured(): boolean {
    return this.config.tls.secretKey !== undefined;
  }

  /** Throws the 422 when the platform has no secret key. */
  requireKey(): Buffer {
    const key = this.config.tls.secretKey;
    if (!key) {
      throw new DomainException(
        ErrorCode.NotConfigured,
        'the platform has no secret key to seal private keys with: an operator sets PAAS_SECRET_KEY_FILE (a file with 32 random bytes in base64, e.g. `openssl rand -base64 32`) and restarts the controller',
      );
    }
    return key;
  }

  seal(plaintext: string): string {
    return sealSecret(this.requireKey(), plaintext);
  }

  open(sealed: string): string {
    return openSecret(this.requireKey(), sealed);
  }
}
