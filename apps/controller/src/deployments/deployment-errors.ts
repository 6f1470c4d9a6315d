import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/** 409: a deployment of the app runs already. */
export function inProgress(appName: string): DomainException {
  return new DomainException(
    ErrorCode.DeploymentInProgress,
    `a deployment of ${appName} is already running: wait for it to finish (GET /v1/apps/${appName}/deployments) or cancel it ` +
      `(POST /v1/apps/${appName}/deployments/ID/cancel), then try again`,
  );
}

/** A release whose droplet was pruned cannot be deployed again. */
export function prunedDroplet(appName: string, version: number, kept?: number, reachable: readonly number[] = []): DomainException {
  const keptText = kept ? `only the droplets of the newest ${kept} releases are kept (PAAS_RELEASES_KEPT)` : 'old droplets are not kept';
  const targets = reachable.length ? `roll back to one of ${reachable.map((v) => `v${v}`).join(', ')}, or ` : '';
  return new DomainException(
    ErrorCode.ReleasePruned,
    `release v${version} of ${appName} can no longer be deployed: its droplet was pruned (${keptText}); ${targets}push its commit again to build it anew`,
  );
}
