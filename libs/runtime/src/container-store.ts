import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ContainerEgress } from './egress';
import type { PortMapping } from './network-rules';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/** Directories on a container's path: root lists them, anyone (the mapped container root) only traverses. */
const TRAVERSE_ONLY = 0o711;

/** What the runtime persists per container, so allocations and handles survive an agent restart. */
export interface ContainerRecord {
  id: string;
  ip: string;
  hostPort?: number;
  containerPort?: number;
  labels: Record<string, string>;
  createdAt: string;
  /** Size of the writable layer's image (see layer-image.ts); unset: upper/work are plain dirs. */
  diskMb?: number;
  /** A service instance's server (ContainerSpec.service): its host port's rules are restored on re-adoption. */
  service?: boolean;
  /** Its egress policy, applied again when the container is re-adopted. */
  egress?: ContainerEgress;
  /** Started under a shim that writes its exit status (exitStatusFile); unset for `run` and older records. */
  supervised?: boolean;
}

/** The record's host-port mapping, when it has one. */
export function portMapping(record: ContainerRecord): PortMapping | undefined {
  if (record.hostPort === undefined || record.containerPort === undefined) return undefined;
  return { containerId: record.id, hostPort: record.hostPort, ip: record.ip, containerPort: record.containerPort, service: record.service ?? false };
}

/**
 * Per-container directories under `<stateDir>/containers/<id>/`: meta.json, bundle/ (config.json,
 * rootfs mount point), upper/ and work/ of the overlay, runc.log. With a disk limit, upper/ and
 * work/ live in layer/, the mount point of the ext4 image layer.img. The meta.json files are the
 * source of truth for IP and host-port allocations: a record exists from reservation until the
 * container is fully destroyed.
 *
 * Secrets at rest: meta.json (labels hold the job, with its env) and config.json are 0600; the
 * state, containers, container and bundle dirs are 0711: a container's root (an unprivileged host
 * uid, see id-mapping.ts) must traverse them to reach its rootfs, no one but root may list them.
 */
export class ContainerStore {
  constructor(private readonly stateDir: string) {}

  get containersDir(): string {
    return join(this.stateDir, 'containers');
  }

  dir(id: string): string {
    return join(this.containersDir, id);
  }

  bundle(id: string): string {
    return join(this.dir(id), 'bundle');
  }

  rootfs(id: string): string {
    return join(this.bundle(id), 'rootfs');
  }

  /** The overlay's upper dir: in the layer image's mount when the disk is limited. */
  upper(id: string, diskLimited: boolean): string {
    return join(diskLimited ? this.layerMount(id) : this.dir(id), 'upper');
  }

  work(id: string, diskLimited: boolean): string {
    return join(diskLimited ? this.layerMount(id) : this.dir(id), 'work');
  }

  layerImage(id: string): string {
    return join(this.dir(id), 'layer.img');
  }

  layerMount(id: string): string {
    return join(this.dir(id), 'layer');
  }

  runcLog(id: string): string {
    return join(this.dir(id), 'runc.log');
  }

  /** runc's exit status of a detached container once it ended, written by its shim (see Runc.spawnSupervised). */
  exitStatusFile(id: string): string {
    return join(this.dir(id), 'exit-status');
  }

  defaultOutputLog(id: string): string {
    return join(this.dir(id), 'output.log');
  }

  async save(record: ContainerRecord): Promise<void> {
    for (const dir of [this.stateDir, this.containersDir, this.dir(record.id), this.bundle(record.id)]) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, TRAVERSE_ONLY); // mkdir's mode is filtered by the umask, and the dir may be older
    }
    const file = join(this.dir(record.id), 'meta.json');
    await rm(`${file}.tmp`, { force: true });
    await writeFile(`${file}.tmp`, JSON.stringify(record, null, 2), { mode: 0o600, flag: 'wx' });
    await rename(`${file}.tmp`, file);
  }

  async load(id: string): Promise<ContainerRecord | undefined> {
    const text = await readFile(join(this.dir(id), 'meta.json'), 'utf8').catch(() => undefined);
    return text ? (JSON.parse(text) as ContainerRecord) : undefined;
  }

  /** Ids with a directory (with or without meta.json, e.g. after a crash mid-reservation). */
  async listIds(): Promise<string[]> {
    const entries = await readdir(this.containersDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  }

  async list(): Promise<ContainerRecord[]> {
    const records = await Promise.all((await this.listIds()).map((id) => this.load(id)));
    return records.filter((record): record is ContainerRecord => record !== undefined);
  }

  /** Removes the whole container directory. The rootfs and the layer must be unmounted first. */
  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true, maxRetries: 3 });
  }

  async readCursor(name: string): Promise<number | undefined> {
    const text = await readFile(join(this.stateDir, `${name}.cursor`), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : Number(text);
  }

  async writeCursor(name: string, value: number): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await writeFile(join(this.stateDir, `${name}.cursor`), String(value));
  }
}

/**
 * runc prepares the rootfs as the container's root, an unprivileged host uid: every directory
 * above `stateDir` must let others traverse it (x), or runc fails with a bare "permission denied".
 */
export async function assertTraversable(stateDir: string): Promise<void> {
  for (let dir = dirname(stateDir); ; dir = dirname(dir)) {
    const mode = (await stat(dir).catch(() => undefined))?.mode;
    if (mode !== undefined && (mode & 0o001) === 0) {
      throw new RuntimeError(
        RuntimeErrorCode.InvalidConfig,
        `stateDir ${stateDir}: ${dir} is mode ${(mode & 0o777).toString(8)}, but containers run in a user namespace as an unprivileged host uid that must traverse it: chmod o+x ${dir} (or 0711)`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}
