import type { ContainerSpec } from './container-runtime';
import { cfsQuota } from './cfs-quota';
import type { IdMapping } from './id-mapping';
import { defaultSeccompProfile } from './seccomp';

const MIB = 1024 * 1024;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The subset of the OCI runtime spec (1.0.2) that we write. */
export type OciConfig = Record<string, unknown>;

export interface OciInputs {
  spec: ContainerSpec;
  /** Absolute path of the netns to join (`/var/run/netns/<name>`). */
  netnsPath: string;
  /** cgroup path relative to the hierarchy roots, e.g. "/paas/<id>". */
  cgroupsPath: string;
  /** The container's user namespace: its ids 0..size-1 are host ids hostId... */
  idMapping: IdMapping;
  /**
   * The container's stdout and stderr arrive as its fds 3 and 4 (runc --preserve-fds, see
   * Runc.spawnSupervised): its command runs under a /bin/sh that makes them fds 1 and 2 and execs
   * it, so the command is still the container's init and its exit is runc's.
   */
  stdioFromFds?: boolean;
}

/** Makes fds 3 and 4 the stdout and stderr, closes them, then execs the command (its argv untouched). */
export const STDIO_FROM_FDS = ['/bin/sh', '-c', 'exec 1>&3 2>&4 3>&- 4>&-; exec "$@"', 'paas-init'];

/** Builds config.json for one container; the rootfs is `<bundle>/rootfs`, already mounted. */
export function buildOciConfig({ spec, netnsPath, cgroupsPath, idMapping, stdioFromFds }: OciInputs): OciConfig {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: '/home/vcap', LANG: 'C.UTF-8', ...spec.env };
  const memoryBytes = spec.memoryMb * MIB;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: spec.user.uid, gid: spec.user.gid },
      args: stdioFromFds ? [...STDIO_FROM_FDS, ...spec.command] : spec.command,
      env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      cwd: spec.cwd,
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 16384, soft: 16384 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: spec.id,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // Not sysfs: in a user namespace the kernel allows a sysfs mount only to the owner of the
      // network namespace, and ours is made by the host (`ip netns add`): "mount sysfs:/sys ...
      // operation not permitted". An empty tmpfs (read-only, see readonlyPaths) holds the cgroup mount.
      { destination: '/sys', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'mode=755', 'size=64k'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      ...(spec.binds ?? []).map((bind) => ({
        destination: bind.destination,
        type: 'bind',
        source: bind.source,
        options: ['rbind', bind.readonly ? 'ro' : 'rw', 'nosuid', 'nodev'],
      })),
    ],
    linux: {
      namespaces: [
        { type: 'user' },
        { type: 'pid' },
        { type: 'network', path: netnsPath },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
      ],
      uidMappings: [{ containerID: 0, hostID: idMapping.hostId, size: idMapping.size }],
      gidMappings: [{ containerID: 0, hostID: idMapping.hostId, size: idMapping.size }],
      cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        memory: { limit: memoryBytes, swap: memoryBytes },
        cpu: {
          shares: Math.max(2, Math.round(spec.memoryMb)),
          // cpuMillicores/1000 cores of CPU time per (short) CFS period: see cfs-quota.ts.
          ...(spec.cpuMillicores !== undefined ? cfsQuota(spec.cpuMillicores) : {}),
        },
        pids: { limit: spec.pidsLimit },
      },
      rootfsPropagation: 'private',
      seccomp: defaultSeccompProfile(),
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/sys', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
