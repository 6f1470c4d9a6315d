/**
 * A container's bundle on the host, once its addresses are reserved: the writable layer (a
 * loop-mounted ext4 image of diskMb when set), the overlay root (layers + stack), its veth,
 * egress rules and host port, and config.json (0600: it holds the env). The caller destroys the
 * container when this throws.
 */
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSpec } from './container-runtime';
import { portMapping, type ContainerRecord, type ContainerStore } from './container-store';
import { hostRootUser, type IdMapping } from './id-mapping';
import { createLayerImage, mountLayerImage } from './layer-image';
import { netnsPath, type HostNetwork } from './network';
import { buildOciConfig } from './oci-spec';
import { mountOverlay } from './overlay';

export interface BundleDeps {
  store: ContainerStore;
  network: HostNetwork;
  idMapping: IdMapping;
  stackDir: string;
  runcRoot: string;
  cgroupsPath: string;
  /** Its stdio comes from the shim's fds (RuncRuntime.start), not from runc's pipes. */
  supervised: boolean;
}

export async function buildBundle(spec: ContainerSpec, record: ContainerRecord, deps: BundleDeps): Promise<void> {
  const limited = spec.diskMb !== undefined;
  if (limited) {
    await createLayerImage(deps.store.layerImage(spec.id), spec.diskMb!);
    await mountLayerImage(deps.store.layerImage(spec.id), deps.store.layerMount(spec.id));
  }
  const lowers = [...spec.layers, deps.stackDir];
  const upper = deps.store.upper(spec.id, limited);
  await mkdir(upper, { recursive: true });
  // The merged root takes the upper dir's owner: container root, so runc (running as it in
  // the user namespace) may create mount points in /, and / is root's inside, not nobody's.
  const root = hostRootUser(deps.idMapping);
  await chown(upper, root.uid, root.gid);
  await chmod(upper, 0o755);
  await mountOverlay(deps.store.rootfs(spec.id), lowers, upper, deps.store.work(spec.id, limited));
  await deps.network.attach(spec.id, record.ip, { service: spec.service ?? false });
  await deps.network.applyEgress(record.ip, spec.egress ?? { rules: [] });
  const mapping = portMapping(record);
  if (mapping) await deps.network.mapPort(mapping);
  const config = buildOciConfig({
    spec,
    netnsPath: netnsPath(spec.id),
    cgroupsPath: deps.cgroupsPath,
    idMapping: deps.idMapping,
    stdioFromFds: deps.supervised,
  });
  const configFile = join(deps.store.bundle(spec.id), 'config.json');
  // It holds the env (the app's secrets): root's alone. writeFile's mode applies at creation.
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  await chmod(configFile, 0o600);
  await mkdir(deps.runcRoot, { recursive: true, mode: 0o700 });
  await chmod(deps.runcRoot, 0o700); // runc's state.json holds the container's config: root's alone
}
