import { Injectable } from '@nestjs/common';
import { AppsRepository } from '../apps/apps.repository';
import { InstancesService } from '../placement/instances.service';
import { ReleasesRepository } from '../releases/releases.repository';
import { DeploymentsRepository } from './deployments.repository';
import { ReleasePhaseService } from './release-phase.service';
import { ReleaseSpecsService } from './release-specs.service';

/**
 * What a DeploymentRun works with, handed to each run by DeploymentRunner: the app and release
 * records, the deployment's own record, the instances it starts and stops, the release phase, and
 * the instance specs of a release. Holds no state of its own.
 */
@Injectable()
export class DeploymentSteps {
  constructor(
    readonly apps: AppsRepository,
    readonly releases: ReleasesRepository,
    readonly deployments: DeploymentsRepository,
    readonly instances: InstancesService,
    readonly releasePhase: ReleasePhaseService,
    readonly specs: ReleaseSpecsService,
  ) {}
}
