import { mkdir, open } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { readOomKills } from './cgroup';
import { cgroupHasProcesses, locateCgroup, readCgroupUsage } from './cgroup-usage';
import type {
  ContainerHandle,
  ContainerRuntime,
  ContainerSpec,
  ContainerStats,
  ContainerStatus,
  RunOptions,
  RunResult,
} from './container-runtime';
import { assertTraversable, ContainerStore, portMapping, type ContainerRecord } from './container-store';
import { buildBundle } from './container-bundle';
import { ExitWatch, readExitStatus, waitStarted } from './container-supervision';
import { exec } from './exec';
import { DEFAULT_ID_MAPPING, hostIdOf, validateIdMapping, type IdMapping } from './id-mapping';
import { mountLayerImage, releaseLayerImage } from './layer-image';
import { forwardLines } from './line-stream';
import { directoryBytes, mountedLayerBytes } from './layer-usage';
import { HostNetwork, type NetworkConfig } from './network';
import { defaultSeccompProfile } from './seccomp';
import { unmount } from './overlay';
import { allocateIp, allocatePort, claimPort } from './port-allocator';
import { Runc } from './runc';
import { validateContainerSpec } from './spec-validation';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/** Configuration of one runc runtime (one per cell). Two runtimes on a host must not share any field. */
export interface RuncRuntimeConfig {
  /** Every container id starts with it, e.g. "paas-c1". */
  prefix: string;
  /** Absolute; bundles, overlay upper/work dirs (or layer images) and per-container metadata live under it. */
  stateDir: string;
  /** The read-only stack root (see ensureStack), always the lowest overlay layer. */
  stackDir: string;
  /** Passed as `runc --root`. */
  runcRoot: string;
  network: NetworkConfig;
  /** Prefix of this runtime's own iptables chains, at most 20 characters, e.g. "PAAS-C1". */
  iptablesChain: string;
  /**
   * The host ids of its containers' user namespace (default DEFAULT_ID_MAPPING). Files a
   * container writes on the host (stack /home/vcap, binds, droplets) belong to this range:
   * give them to hostVcapUser(idMapping). Runtimes on one host should not share a range.
   */
  idMapping?: IdMapping;
}

const POLL_MS = 50;
const KILL_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The ContainerRuntime on runc: overlayfs rootfs (layers + stack, host /usr read-only) whose writable
 * layer is a loop-mounted ext4 image of diskMb when set, pid/mount/
 * uts/ipc/net namespaces inside a user namespace of its own that maps the container's ids to an
 * unprivileged host range (config.idMapping), a veth on the runtime's bridge with a DNAT'ed host port
 * and its egress policy (default deny, see ContainerEgress), cgroup limits
 * (memory without swap, pids, cpu shares), a non-root user without capabilities, no-new-privileges
 * and an allow-list seccomp profile (seccomp/default.json). Metadata and config.json (they hold
 * the env) are 0600 in directories others may only traverse (0711). Safe to use concurrently for different container ids.
 */
export class RuncRuntime implements ContainerRuntime {
  private readonly runc: Runc;
  private readonly store: ContainerStore;
  private readonly network: HostNetwork;
  private hostReady?: Promise<void>;
  private allocationLock: Promise<unknown> = Promise.resolve();
  private readonly destroying = new Map<string, Promise<void>>();
  private readonly exits = new ExitWatch((id) => this.inspect(id));
  private readonly idMapping: IdMapping;

  constructor(private readonly config: RuncRuntimeConfig) {
    for (const [name, path] of [
      ['stateDir', config.stateDir],
      ['stackDir', config.stackDir],
      ['runcRoot', config.runcRoot],
    ] as const) {
      if (!isAbsolute(path)) throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `${name} "${path}" must be absolute`);
    }
    if (!/^[a-z0-9][a-z0-9-]*$/.test(config.prefix)) {
      throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `prefix "${config.prefix}" must be [a-z0-9-]`);
    }
    this.idMapping = config.idMapping ?? DEFAULT_ID_MAPPING;
    validateIdMapping(this.idMapping);
    defaultSeccompProfile(); // a missing or too permissive profile fails here, at boot
    this.runc = new Runc(config.runcRoot);
    this.store = new ContainerStore(config.stateDir);
    this.network = new HostNetwork(config.network, config.iptablesChain);
  }

  async start(spec: ContainerSpec): Promise<ContainerHandle> {
    const record = await this.prepare(spec, { supervised: true });
    try {
      const logFile = spec.logFile ?? this.store.defaultOutputLog(spec.id);
      await mkdir(dirname(logFile), { recursive: true });
      const output = await open(logFile, 'a');
      const errors = spec.errorLogFile ? await open(spec.errorLogFile, 'a').catch(async (error: unknown) => {
        await output.close();
        throw error;
      }) : undefined;
      try {
        // The app's own output files: it may reopen them (nginx's `access_log /dev/stdout` opens
        // /proc/self/fd/1), which a host-root file refuses to a uid of the namespace.
        const owner = { uid: hostIdOf(this.idMapping, spec.user.uid), gid: hostIdOf(this.idMapping, spec.user.gid) };
        for (const file of [output, errors]) await file?.chown(owner.uid, owner.gid);
        // Under a shell that waits for runc and keeps its exit status (see exitStatus): the files
        // are the container's own (pass-through), whatever runc does with its pipes.
        const shim = this.runc.spawnSupervised(spec.id, this.store.bundle(spec.id), {
          outputFd: output.fd,
          errorFd: (errors ?? output).fd,
          logPath: this.store.runcLog(spec.id),
          exitFile: this.store.exitStatusFile(spec.id),
        });
        this.exits.track(spec.id, shim);
        const pid = await waitStarted(this.runc, spec.id, shim, { bundle: this.store.bundle(spec.id), runcLog: this.store.runcLog(spec.id), exitFile: this.store.exitStatusFile(spec.id) });
        return this.handle(record, pid);
      } finally {
        await output.close();
        await errors?.close();
      }
    } catch (error) {
      await this.destroy(spec.id).catch(() => undefined);
      throw error;
    }
  }

  async run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    await this.prepare(spec);
    try {
      const child = this.runc.spawnForeground(spec.id, this.store.bundle(spec.id), this.store.runcLog(spec.id));
      forwardLines(child.stdout!, (line) => options.onLine(line, 'stdout'));
      forwardLines(child.stderr!, (line) => options.onLine(line, 'stderr'));
      let timedOut = false;
      let forceTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        void this.runc.kill(spec.id, 'KILL').catch(() => undefined);
        // If runc had not created the container yet, kill runc itself; destroy cleans up.
        forceTimer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      }, options.timeoutMs);
      const exitCode = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
      }).finally(() => {
        clearTimeout(timer);
        clearTimeout(forceTimer);
      });
      if (timedOut) return { exitCode, reason: 'timeout' };
      if ((await this.oomKills(spec.id)) > 0) return { exitCode, reason: 'oom' };
      return { exitCode };
    } finally {
      await this.destroy(spec.id);
    }
  }

  async inspect(id: string): Promise<ContainerStatus | undefined> {
    const state = await this.runc.state(id);
    if (!state) {
      // Resources still allocated but no runc container (e.g. crashed mid-start): report it stopped.
      return (await this.store.load(id)) ? { id, state: 'stopped', oomKilled: false } : undefined;
    }
    const running = state.status === 'running' || state.status === 'paused';
    const exitStatus = running ? undefined : await this.exitStatus(id);
    return {
      id,
      state: running ? 'running' : 'stopped',
      pid: running ? state.pid : undefined,
      oomKilled: (await this.oomKills(id)) > 0,
      ...(exitStatus !== undefined ? { exitStatus } : {}),
    };
  }

  /** See ExitWatch: from the end of the shim of a container started here, else by polling runc. */
  wait(id: string): Promise<ContainerStatus | undefined> {
    return this.exits.wait(id);
  }

  /** What runc returned when a supervised container ended (see readExitStatus); undefined for others. */
  private async exitStatus(id: string): Promise<number | undefined> {
    const record = await this.store.load(id);
    return record?.supervised ? readExitStatus(this.store.exitStatusFile(id)) : undefined;
  }

  /**
   * Reads the cgroup (located through runc's state.json) and the writable layer: statfs of the
   * mounted ext4 image when diskMb is set, else a bounded walk of the upper dir. No runc call.
   */
  async stats(id: string): Promise<ContainerStats | undefined> {
    const record = await this.store.load(id);
    if (!record) return undefined;
    let cgroup;
    try {
      const dirs = await locateCgroup(this.config.runcRoot, id, this.cgroupsPath(id));
      // An exited container's cgroup stays until `runc delete`: it no longer runs.
      if (!(await cgroupHasProcesses(dirs))) return undefined;
      cgroup = await readCgroupUsage(dirs);
    } catch {
      return undefined; // no cgroup: not started yet, or already gone
    }
    const limited = record.diskMb !== undefined;
    const diskBytes = limited
      ? ((await mountedLayerBytes(this.store.layerMount(id), this.store.dir(id)).catch(() => undefined)) ?? 0)
      : await directoryBytes(this.store.upper(id, false));
    return {
      ...cgroup,
      diskBytes,
      ...(limited ? { diskLimitBytes: record.diskMb! * 1024 * 1024 } : {}),
    };
  }

  async stop(id: string, graceMs: number): Promise<void> {
    const state = await this.runc.state(id);
    if (state?.status === 'running' || state?.status === 'paused') {
      await this.runc.kill(id, 'TERM');
      if (!(await this.waitStopped(id, graceMs))) {
        await this.runc.kill(id, 'KILL');
        await this.waitStopped(id, KILL_WAIT_MS);
      }
    }
    await this.destroy(id);
  }

  destroy(id: string): Promise<void> {
    const pending = this.destroying.get(id);
    if (pending) return pending;
    const work = this.destroyNow(id).finally(() => this.destroying.delete(id));
    this.destroying.set(id, work);
    return work;
  }

  async recover(): Promise<ContainerHandle[]> {
    await this.ensureHost();
    const listed = new Map(
      (await this.runc.list()).filter((state) => state.id.startsWith(this.config.prefix)).map((state) => [state.id, state]),
    );
    const records = new Map((await this.store.list()).map((record) => [record.id, record]));
    const ids = new Set([...listed.keys(), ...records.keys(), ...(await this.store.listIds())]);
    const handles: ContainerHandle[] = [];
    for (const id of ids) {
      const state = listed.get(id);
      const record = records.get(id);
      if (record && state && (state.status === 'running' || state.status === 'paused')) {
        if (record.diskMb !== undefined) {
          // Normally still mounted (mounts outlive the agent). If not, mount its loop device again;
          // when that fails the container keeps running anyway: its overlay holds the filesystem.
          await mountLayerImage(this.store.layerImage(id), this.store.layerMount(id)).catch(() => undefined);
        }
        // Idempotent: restores the DNAT rule and the egress chains if iptables was flushed meanwhile.
        const mapping = portMapping(record);
        if (mapping) await this.network.mapPort(mapping);
        await this.network.applyEgress(record.ip, record.egress ?? { rules: [] });
        handles.push(this.handle(record, state.pid));
      } else {
        await this.destroy(id);
      }
    }
    return handles;
  }

  /** Ids of every container this runtime knows about (runc and persisted state). */
  async knownIds(): Promise<string[]> {
    const fromRunc = (await this.runc.list()).map((state) => state.id).filter((id) => id.startsWith(this.config.prefix));
    return [...new Set([...fromRunc, ...(await this.store.listIds())])];
  }

  /** Removes the host network pieces (chains, jumps, stray veths, bridge). Containers first. */
  async teardownHost(): Promise<void> {
    const { stdout } = await exec('ip', ['-o', 'link', 'show', 'master', this.config.network.bridge]).catch(() => ({ stdout: '' }));
    for (const match of stdout.matchAll(/^\d+: (pv[0-9a-f]{12})@/gm)) {
      await exec('ip', ['link', 'del', 'dev', match[1]!]).catch(() => undefined);
    }
    await this.network.teardownHost();
    this.hostReady = undefined;
  }

  private async destroyNow(id: string): Promise<void> {
    const record = await this.store.load(id);
    if (await this.runc.state(id)) {
      await this.runc.delete(id);
      // Its shim writes the exit status into the directory removed below: let it finish first.
      if (record?.supervised) await this.exitStatus(id);
    }
    const mapping = record && portMapping(record);
    if (mapping) await this.network.unmapPort(mapping);
    if (record) await this.network.removeEgress(record.ip);
    await this.network.detach(id);
    await unmount(this.store.rootfs(id));
    // Always, whatever the record says: start may have crashed before or after writing it.
    await releaseLayerImage(this.store.layerImage(id), this.store.layerMount(id));
    await this.store.remove(id);
  }

  private ensureHost(): Promise<void> {
    this.hostReady ??= Promise.all([assertTraversable(this.config.stateDir), this.network.ensureHost()]).then(() => undefined).catch((error: unknown) => {
      this.hostReady = undefined;
      throw error;
    });
    return this.hostReady;
  }

  /** Validates, reserves IP and port, creates the layer image, mounts the rootfs, wires the network, writes config.json. */
  private async prepare(spec: ContainerSpec, options: { supervised: boolean } = { supervised: false }): Promise<ContainerRecord> {
    validateContainerSpec(spec, this.config.prefix);
    hostIdOf(this.idMapping, spec.user.uid); // throws InvalidSpec when the user is not mapped
    hostIdOf(this.idMapping, spec.user.gid);
    await this.ensureHost();
    const record = await this.withAllocationLock(async () => {
      if ((await this.store.load(spec.id)) || (await this.runc.state(spec.id))) {
        throw new RuntimeError(RuntimeErrorCode.AlreadyExists, `container ${spec.id} already exists`);
      }
      const records = await this.store.list();
      const ip = allocateIp(this.network.subnet, new Set(records.map((r) => r.ip)));
      let hostPort: number | undefined;
      if (spec.containerPort !== undefined) {
        const used = new Set(records.flatMap((r) => (r.hostPort === undefined ? [] : [r.hostPort])));
        if (spec.hostPort !== undefined) {
          hostPort = await claimPort(spec.hostPort, used);
        } else {
          hostPort = await allocatePort(this.config.network.hostPortRange, used, await this.store.readCursor('host-port'));
          await this.store.writeCursor('host-port', hostPort);
        }
      }
      const reserved: ContainerRecord = {
        id: spec.id,
        ip,
        hostPort,
        containerPort: spec.containerPort,
        labels: { ...(spec.labels ?? {}) },
        createdAt: new Date().toISOString(),
        diskMb: spec.diskMb,
        egress: spec.egress,
        ...(spec.service ? { service: true } : {}),
        ...(options.supervised ? { supervised: true } : {}),
      };
      await this.store.save(reserved);
      return reserved;
    });
    try {
      await buildBundle(spec, record, {
        store: this.store,
        network: this.network,
        idMapping: this.idMapping,
        stackDir: this.config.stackDir,
        runcRoot: this.config.runcRoot,
        cgroupsPath: this.cgroupsPath(spec.id),
        supervised: options.supervised,
      });
      return record;
    } catch (error) {
      await this.destroy(spec.id).catch(() => undefined);
      throw error;
    }
  }


  private cgroupsPath(id: string): string {
    return `/paas/${id}`;
  }

  private oomKills(id: string): Promise<number> {
    return readOomKills(this.config.runcRoot, id, this.cgroupsPath(id));
  }

  private handle(record: ContainerRecord, pid: number): ContainerHandle {
    return { id: record.id, ip: record.ip, hostPort: record.hostPort, pid, labels: record.labels };
  }

  private async waitStopped(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const maxPolls = Math.ceil(timeoutMs / POLL_MS) + 1;
    for (let poll = 0; poll < maxPolls; poll++) {
      const state = await this.runc.state(id);
      if (!state || state.status === 'stopped') return true;
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
    return false;
  }

  private withAllocationLock<T>(work: () => Promise<T>): Promise<T> {
    const next = this.allocationLock.then(work, work);
    this.allocationLock = next.catch(() => undefined);
    return next;
  }
}
