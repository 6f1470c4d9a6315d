import { Injectable } from '@nestjs/common';
import { DOMAIN_VERIFICATION_PREFIX } from '@paas/contracts';
import { clearWellKnownAnswer, setWellKnownAnswer } from '@paas/redis';
import { RedisService } from '../platform/redis/redis.module';

/** How long a published token is answered without being published again. */
const TOKEN_TTL_MS = 72 * 3_600_000;

/** The path the routers answer with a domain's verification token. */
export function verificationPath(token: string): string {
  return DOMAIN_VERIFICATION_PREFIX + token;
}

/**
 * The verification tokens of pending domains as the routers serve them (Redis hash `wellKnown`,
 * body = token, at http://<domain>/.well-known/paas-domain-verification/<token>). Each answer
 * lives TOKEN_TTL_MS (72 h) from its last publication: published at creation, again at each
 * verify attempt and at each full re-projection (boot, Redis lost), withdrawn once verified or
 * deleted. Safe to repeat.
 */
@Injectable()
export class DomainTokensRepository {
  constructor(private readonly redis: RedisService) {}

  publish(domain: string, token: string, now = Date.now()): Promise<void> {
    return setWellKnownAnswer(this.redis.redis, this.redis.keys, domain, verificationPath(token), token, TOKEN_TTL_MS, now);
  }

  withdraw(domain: string, token: string): Promise<void> {
    return clearWellKnownAnswer(this.redis.redis, this.redis.keys, domain, verificationPath(token));
  }
}
