import { Inject, Injectable } from '@nestjs/common';
import { publishCertificate, readCertificates, withdrawCertificate } from '@paas/redis';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { RedisService } from '../platform/redis/redis.module';
import { CertificatesRepository, type Certificate } from './certificates.repository';

/**
 * Projects the certificates the routers serve into Redis (hash `certificates`, docs/https.md):
 * every certificate with a chain and a key that has not expired. Each change publishes or
 * withdraws at once; `reconcile` (the leader's pass) compares the whole hash with Postgres and
 * repairs it, so a Redis that lost its data gets every certificate back within a pass.
 */
@Injectable()
export class CertificateProjectionService {
  constructor(
    private readonly repo: CertificatesRepository,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Publishes one certificate (safe to repeat); a certificate that is not servable is withdrawn instead. */
  async publish(cert: Certificate, now = new Date()): Promise<void> {
    if (!cert.chainPem || !cert.keySealed || !cert.notAfter || cert.notAfter <= now || cert.state === 'expired') {
      await this.withdraw(cert.id);
      return;
    }
    await publishCertificate(this.redis.redis, this.redis.keys, {
      id: cert.id,
      names: cert.names,
      chainPem: cert.chainPem,
      keySealed: cert.keySealed,
      notAfter: cert.notAfter.getTime(),
    });
  }

  withdraw(id: string): Promise<void> {
    return withdrawCertificate(this.redis.redis, this.redis.keys, id);
  }

  /** Makes the Redis hash what Postgres says (missing or stale entries published, others withdrawn); returns the counts. */
  async reconcile(now = new Date()): Promise<{ published: number; withdrawn: number }> {
    const served = await this.repo.served(now);
    const inRedis = await readCertificates(this.redis.redis, this.redis.keys);
    let published = 0;
    let withdrawn = 0;
    for (const cert of served) {
      const entry = inRedis.get(cert.id);
      if (entry && entry.chainPem === cert.chainPem && entry.keySealed === cert.keySealed && entry.notAfter === cert.notAfter!.getTime()) continue;
      await this.publish(cert, now);
      published++;
    }
    const keep = new Set(served.map((c) => c.id));
    const raw = await this.redis.redis.hkeys(this.redis.keys.certificates);
    for (const id of raw) {
      if (keep.has(id)) continue;
      await this.withdraw(id);
      withdrawn++;
    }
    if (published || withdrawn) this.logger.info({ event: 'certificates-projected', published, withdrawn }, 'certificates-projected');
    return { published, withdrawn };
  }
}
