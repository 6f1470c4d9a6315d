import { chown } from 'node:fs/promises';
import { exec } from './exec';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/** The unprivileged user apps run as inside their container, as on Cloud Foundry. */
export const VCAP_UID = 2000;
export const VCAP_GID = 2000;

/**
 * The user namespace of a runtime's containers: container uids and gids 0..size-1 are host ids
 * hostId..hostId+size-1 (as Garden-runC maps container root to a high host uid). A process that
 * escapes its container is an unprivileged stranger on the host: it owns no host file outside
 * the range, and host ids outside the range (host root, the other cells' ranges) show as
 * nobody (65534) inside. One range per cell (see docs/operations.md): the stack, the droplet
 * cache and the build caches of a cell are shared by its containers and owned in that range.
 */
export interface IdMapping {
  /** The host uid and gid of container root; every id of the container is this plus its own. */
  hostId: number;
  /** How many ids are mapped: the container's ids are 0..size-1. */
  size: number;
}

/** 1_000_000 up: above the ids a distribution hands out (useradd stops at 60000; systemd's dynamic ids end at 65519). */
export const DEFAULT_ID_MAPPING: IdMapping = { hostId: 1_000_000, size: 65_536 };

/** The largest id the kernel accepts is 2^32 - 2 ((uid_t)-1 means "no id"). */
const MAX_ID = 0xffff_fffe;

/** Throws InvalidConfig unless the range holds vcap and nobody and stays away from the host's own ids. */
export function validateIdMapping(mapping: IdMapping): void {
  const { hostId, size } = mapping;
  if (!Number.isInteger(hostId) || hostId < 100_000) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `idMapping.hostId ${hostId} must be an integer of at least 100000 (host users live below)`);
  }
  if (!Number.isInteger(size) || size < 65_535) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `idMapping.size ${size} must be at least 65535 (vcap is ${VCAP_UID}, nobody 65534)`);
  }
  if (hostId + size - 1 > MAX_ID) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `idMapping ${hostId}+${size} ends past the largest id ${MAX_ID}`);
  }
}

/** The host uid/gid of container id `id` (0 = container root). */
export function hostIdOf(mapping: IdMapping, id: number): number {
  if (!(Number.isInteger(id) && id >= 0 && id < mapping.size)) {
    throw new RuntimeError(RuntimeErrorCode.InvalidSpec, `id ${id} is outside the container's mapped ids 0..${mapping.size - 1}`);
  }
  return mapping.hostId + id;
}

/**
 * THE host owner of everything a container's vcap user writes or owns: the stack's /home/vcap,
 * staging directories, build caches, droplet files. Every host-side chown for containers uses it.
 */
export function hostVcapUser(mapping: IdMapping): { uid: number; gid: number } {
  return { uid: hostIdOf(mapping, VCAP_UID), gid: hostIdOf(mapping, VCAP_GID) };
}

/** The host owner of the container's root user (the overlay's upper dir, so / is root's inside). */
export function hostRootUser(mapping: IdMapping): { uid: number; gid: number } {
  return { uid: mapping.hostId, gid: mapping.hostId };
}

/**
 * Gives `path` and everything below it to the container's vcap user, never following a symbolic
 * link (`chown -R -P -h`: links are neither descended nor dereferenced, the link itself is
 * changed): a tenant's tree may hold links to anywhere on the host.
 */
export async function chownTreeToVcap(path: string, mapping: IdMapping): Promise<void> {
  const { uid, gid } = hostVcapUser(mapping);
  // A big build cache (node_modules, the npm cache) given over for the first time takes a while.
  await exec('chown', ['-R', '-P', '-h', `${uid}:${gid}`, '--', path], { timeoutMs: 10 * 60_000 });
}

/** Gives the top of `dir` (not its content) to the container's vcap user. */
export async function chownToVcap(dir: string, mapping: IdMapping): Promise<void> {
  const { uid, gid } = hostVcapUser(mapping);
  await chown(dir, uid, gid);
}
