export * from './container-runtime';
export { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';
export { cleanupAll } from './cleanup-all';
export { ensureStack, stackNameservers, VCAP_UID, VCAP_GID, STACK_VERSION } from './stack';
export {
  DEFAULT_ID_MAPPING,
  chownToVcap,
  chownTreeToVcap,
  hostIdOf,
  hostVcapUser,
  validateIdMapping,
  type IdMapping,
} from './id-mapping';
export type { NetworkConfig } from './network';
export { createLayerImage, growLayerImage, mountLayerImage, releaseLayerImage, unmountLayerImage } from './layer-image';
export { type ContainerEgress, type EgressRule, destinationProblem, portsProblem, validateEgressRule } from './egress';
export { RuntimeError, RuntimeErrorCode, CommandFailedError } from './runtime-error';
export { FakeRuntime, type FakeRuntimeConfig, type FakeContainer, type FakeJournalEntry } from './fake-runtime';
export { testRuntimeConfig } from './integration-test-support';
