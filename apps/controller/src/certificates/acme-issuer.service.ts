import { Inject, Injectable } from '@nestjs/common';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import { ACME_CHALLENGE_PREFIX } from '@paas/contracts';
import { clearWellKnownAnswer, setWellKnownAnswer } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { RedisService } from '../platform/redis/redis.module';
import { CertificatesRepository } from './certificates.repository';
import { PlatformSecretService } from './platform-secret.service';

/** How long the routers answer one HTTP-01 challenge (cleared as soon as the order is done). */
export const CHALLENGE_TTL_MS = 10 * 60_000;
/** One HTTP request to the ACME server gives up after this long. */
const ACME_REQUEST_TIMEOUT_MS = 30_000;

/** What an order brings back: the chain (leaf first) and its new private key. */
export interface AcmeIssued {
  chainPem: string;
  keyPem: string;
}

/**
 * Orders certificates from the ACME directory PAAS_ACME_DIRECTORY_URL with acme-client: one
 * account per directory (its key created once, sealed in acme_accounts, registered with the terms
 * of service agreed), HTTP-01 only, the key authorization put in the routers' well-known answers
 * (setWellKnownAnswer) for the order's duration and cleared after. Calls may overlap for different
 * certificates; the caller runs one order at a time per certificate.
 */
@Injectable()
export class AcmeIssuerService {
  private client?: Promise<acme.Client>;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly repo: CertificatesRepository,
    private readonly secret: PlatformSecretService,
    private readonly redis: RedisService,
  ) {
    // acme-client has one axios instance per process, so its settings are the process's: the
    // controller talks to one ACME directory. Its own retries of a refused connection are few and
    // short, the platform retries failed orders with its own backoff.
    acme.axios.defaults.timeout = ACME_REQUEST_TIMEOUT_MS;
    const defaults = acme.axios.defaults as typeof acme.axios.defaults & { acmeSettings: Record<string, number> };
    defaults.acmeSettings = { ...defaults.acmeSettings, retryMaxAttempts: 2, retryDefaultDelay: 1 };
    const ca = config.tls.acme.caPem;
    if (ca) acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ca], keepAlive: true });
  }

  /** Throws the 422 when ACME is not configured (no directory, or no secret key to seal keys with). */
  requireConfigured(): string {
    const url = this.config.tls.acme.directoryUrl;
    if (!url) {
      throw new DomainException(
        ErrorCode.NotConfigured,
        'the platform has no ACME directory to order certificates from: an operator sets PAAS_ACME_DIRECTORY_URL (e.g. https://acme-v02.api.letsencrypt.org/directory); meanwhile upload a certificate (source upload)',
      );
    }
    this.secret.requireKey();
    return url;
  }

  /** Orders one certificate for `names` (no wildcards: HTTP-01); throws with the ACME server's problem detail. */
  async order(names: string[]): Promise<AcmeIssued> {
    const client = await this.accountClient();
    const key = await acme.crypto.createPrivateEcdsaKey('P-256');
    const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, key);
    const { redis, keys } = this.redis;
    const chainPem = await client.auto({
      csr,
      email: this.config.tls.acme.email,
      termsOfServiceAgreed: true,
      // The routers answer the challenge; the controller may not reach the host itself.
      skipChallengeVerification: true,
      challengePriority: ['http-01'],
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`${authz.identifier.value}: the ACME server offers no http-01 challenge (only ${challenge.type}); the platform proves control by HTTP-01 only`);
        await setWellKnownAnswer(redis, keys, authz.identifier.value, ACME_CHALLENGE_PREFIX + challenge.token, keyAuthorization, CHALLENGE_TTL_MS);
      },
      challengeRemoveFn: async (authz, challenge) => {
        await clearWellKnownAnswer(redis, keys, authz.identifier.value, ACME_CHALLENGE_PREFIX + challenge.token);
      },
    });
    return { chainPem, keyPem: key.toString() };
  }

  /** The client of this directory's account: its key made and sealed once (the first replica to store it wins), registered once. */
  private accountClient(): Promise<acme.Client> {
    this.client ??= this.makeClient().catch((error: unknown) => {
      this.client = undefined;
      throw error;
    });
    return this.client;
  }

  private async makeClient(): Promise<acme.Client> {
    const directoryUrl = this.requireConfigured();
    let account = await this.repo.acmeAccount(directoryUrl);
    if (!account) {
      const key = await acme.crypto.createPrivateEcdsaKey('P-256');
      account = await this.repo.createAcmeAccount(directoryUrl, this.secret.seal(key.toString()));
    }
    const client = new acme.Client({
      directoryUrl,
      accountKey: this.secret.open(account.keySealed),
      accountUrl: account.accountUrl ?? undefined,
      backoffAttempts: 12,
      backoffMin: 500,
      backoffMax: 10_000,
    });
    if (!account.accountUrl) {
      const email = this.config.tls.acme.email;
      await client.createAccount({ termsOfServiceAgreed: true, ...(email ? { contact: [`mailto:${email}`] } : {}) });
      await this.repo.setAcmeAccountUrl(directoryUrl, client.getAccountUrl());
    }
    return client;
  }
}
