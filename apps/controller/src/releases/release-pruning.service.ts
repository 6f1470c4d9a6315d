import { Inject, Injectable } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { BlobstoreService } from '../storage/blobstore.service';
import { ReleasesRepository } from './releases.repository';

/**
 * Keeps the blobstore from filling: after a successful deployment, the droplets of an app's
 * releases beyond its newest PAAS_RELEASES_KEPT (never the current one's) are deleted with their
 * builds' source packages, as are the packages of old failed builds. Release rows stay (history);
 * their droplet is marked pruned, and a rollback to them is refused with the way out.
 */
@Injectable()
export class ReleasePruningService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly releases: ReleasesRepository,
    private readonly blobs: BlobstoreService,
  ) {}

  get kept(): number {
    return this.config.releasesKept;
  }

  /** Prunes one app; returns how many droplets went. Safe to call twice (pruned ones are skipped). */
  async pruneApp(appId: string): Promise<number> {
    // Marked first, under the app's lock, then deleted: a rollback never starts on a droplet being deleted.
    const droplets = await this.releases.markPruned(appId, this.config.releasesKept);
    for (const d of droplets) {
      await this.blobs.remove('droplets', d.blobId).catch((e) => this.logger.warn({ err: e, droplet: d.id }, 'droplet-blob-not-removed'));
      await this.blobs.remove('packages', d.buildId).catch((e) => this.logger.warn({ err: e, build: d.buildId }, 'package-blob-not-removed'));
    }
    for (const buildId of await this.releases.staleFailedBuildIds(appId, this.config.releasesKept)) {
      await this.blobs.remove('packages', buildId).catch((e) => this.logger.warn({ err: e, build: buildId }, 'package-blob-not-removed'));
    }
    if (droplets.length) this.logger.info({ app: appId, droplets: droplets.length, kept: this.config.releasesKept }, 'droplets-pruned');
    return droplets.length;
  }
}
