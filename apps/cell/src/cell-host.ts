import { appendFileSync } from 'node:fs';
import { access, constants, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CELL_RUNTIME_RECORD } from '@paas/contracts';
import {
  FakeRuntime,
  RuncRuntime,
  cleanupAll,
  ensureStack,
  stackNameservers,
  type ContainerRuntime,
  type FakeJournalEntry,
  type FakeRuntimeConfig,
  type RuncRuntimeConfig,
} from '@paas/runtime';
import type { CellConfig } from './config';
import { fakeCrashAfterMs, fakeListens, fakeOutput, fakeTaskRun, fakeUsage } from './fake-behaviours';
import { fakeBuildpackRun } from './fake-buildpack';
import { fakeServiceProbes, hostServiceProbes, type ServiceProbes } from './services/service-probes';
import { DirectoryVolumes, LoopVolumes, type ServiceVolumes } from './services/service-volumes';

/**
 * Where a cell agent runs its containers: the runtime and the host around it (Nomad's driver
 * plus its host setup). `runcHost` is the real one (root, runc, a bridge, iptables, the stack);
 * `fakeHost` runs no process at all (FakeRuntime), for tests of the agent and of the controller
 * against the real agent. Contract: `prepare` once, when the agent starts, before any container;
 * `cleanup` at most once, at shutdown, after the instances stopped.
 */
export interface CellHost {
  readonly runtime: ContainerRuntime;
  /** Where service instances keep their data (see service-volumes.ts). */
  readonly serviceVolumes: ServiceVolumes;
  /** What the cell learns of a running server (connections, whether it serves its protocol). */
  readonly serviceProbes: ServiceProbes;
  /** Whether the host has a server's binary (the stack's /usr is the host's). */
  serverInstalled(binary: string): Promise<boolean>;
  /** Readies the host (the runtime record the platform's sweeper reads, the stack); returns the nameservers containers get. */
  prepare(): Promise<string[]>;
  /** Removes every container and what the host setup made (network, chains): cleanupOnExit. */
  cleanup(): Promise<void>;
}

/** The runc runtime's configuration for a cell, from its config. */
export function runcRuntimeConfig(config: CellConfig): RuncRuntimeConfig {
  return {
    prefix: config.containerPrefix,
    stateDir: join(config.dataDir, 'containers'),
    stackDir: join(config.dataDir, 'stack'),
    runcRoot: join(config.dataDir, 'runc'),
    network: {
      bridge: config.bridge,
      subnet: config.subnet,
      hostPortRange: config.portRange,
      hostAddresses: [config.address],
      platformNetworks: config.platformNetworks,
    },
    iptablesChain: config.iptablesChain,
    idMapping: config.idMapping,
  };
}

/** The real host: containers on runc, its network set up by the runtime, the stack built under the data dir. */
export function runcHost(config: CellConfig): CellHost {
  const runtimeConfig = runcRuntimeConfig(config);
  return {
    runtime: new RuncRuntime(runtimeConfig),
    serviceVolumes: new LoopVolumes(config.servicesDir, config.idMapping),
    serviceProbes: hostServiceProbes,
    serverInstalled: (binary) => access(binary, constants.X_OK).then(() => true, () => false),
    async prepare() {
      await writeFile(join(config.dataDir, CELL_RUNTIME_RECORD), JSON.stringify(runtimeConfig), { mode: 0o600 });
      await ensureStack(runtimeConfig.stackDir, config.idMapping);
      return stackNameservers(runtimeConfig.stackDir);
    },
    cleanup: () => cleanupAll(runtimeConfig),
  };
}

/**
 * A host that runs nothing: a FakeRuntime with the cell's prefix, subnet and port range whose
 * containers answer HTTP on the cell's address and their host port (serveOn: health checks and
 * routers reach them), whose staging plays a buildpack (fakeBuildpackRun: the stager makes and
 * uploads a real droplet of the source), whose usage is fakeUsage's, and `script` (see FakeRuntimeConfig);
 * what each does is written down in fake-behaviours.ts. No stack, no network, no runtime record (the sweeper has
 * nothing to remove). Containers "exist" only in this process: an agent restart loses them. With
 * CELL_FAKE_JOURNAL, what the runtime did is appended to that file (see journalLine).
 * Service instances: every server "is installed", its volume is a plain folder (DirectoryVolumes),
 * its init exits 0 and its container answers on its host port (so it reports `running`), holding
 * no data: a client that speaks the server's protocol gets no answer. An update-service restarts it
 * with the new sizes (the folder has none); a restore-service checks and puts the snapshot in the
 * folder as on a real cell, and the restarted container "serves" it once it answers on its port.
 */
export function fakeHost(config: CellConfig, script: FakeRuntimeConfig = {}): CellHost {
  const runtime = new FakeRuntime({
    prefix: config.containerPrefix,
    subnet: config.subnet,
    hostPortBase: config.portRange[0],
    hostPortCount: config.portRange[1] - config.portRange[0] + 1,
    serveOn: config.address,
    runFor: async (spec, options, stopped) => (await fakeBuildpackRun(spec, options)) ?? fakeTaskRun(spec, options, stopped),
    usageFor: fakeUsage,
    crashAfterMs: fakeCrashAfterMs,
    listensFor: fakeListens,
    outputFor: fakeOutput,
    ...(config.fakeJournal ? { journal: (entry: FakeJournalEntry) => appendFileSync(config.fakeJournal!, `${journalLine(config.id, entry)}\n`) } : {}),
    ...script,
  });
  return {
    runtime,
    serviceVolumes: new DirectoryVolumes(config.servicesDir),
    serviceProbes: fakeServiceProbes,
    serverInstalled: async () => true,
    prepare: async () => [],
    async cleanup() {
      for (const container of runtime.list()) await runtime.destroy(container.spec.id);
    },
  };
}

/**
 * One line of CELL_FAKE_JOURNAL: JSON `{cell, what, container, appId?, processType?, exitCode?}`
 * (what: start, run, run-end, stop; the app and process type from the container's
 * VCAP_APPLICATION, none for a staging). Written synchronously, so the lines of several cells
 * sharing one file come in the order things happened.
 */
export function journalLine(cellId: string, entry: FakeJournalEntry): string {
  let app: { application_id?: unknown; process_type?: unknown } = {};
  try {
    app = JSON.parse(entry.spec.env.VCAP_APPLICATION ?? '{}') as typeof app;
  } catch {
    // not an app container
  }
  return JSON.stringify({
    cell: cellId,
    what: entry.what,
    container: entry.spec.id,
    ...(typeof app.application_id === 'string' ? { appId: app.application_id } : {}),
    ...(typeof app.process_type === 'string' ? { processType: app.process_type } : {}),
    ...(entry.result ? { exitCode: entry.result.exitCode } : {}),
  });
}

/** The host CELL_RUNTIME names: runc (the default) or fake. */
export function cellHostFor(config: CellConfig): CellHost {
  return config.runtime === 'fake' ? fakeHost(config) : runcHost(config);
}
