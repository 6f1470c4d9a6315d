import { join } from 'node:path';
import { detachLoopDevicesUnder } from './layer-image';
import { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';

/**
 * Removes every container (with its mounts, layer image and loop device), netns, veth, iptables
 * chain and the bridge that runtimes with this config created. For platform shutdown and tests'
 * finally blocks; safe to call twice.
 */
export async function cleanupAll(config: RuncRuntimeConfig): Promise<void> {
  const runtime = new RuncRuntime(config);
  const errors: unknown[] = [];
  for (const id of await runtime.knownIds()) {
    await runtime.destroy(id).catch((error: unknown) => errors.push(error));
  }
  // Layer images whose container directory is gone but whose loop device is not (rare: see layer-image.ts).
  await detachLoopDevicesUnder(join(config.stateDir, 'containers')).catch((error: unknown) => errors.push(error));
  await runtime.teardownHost().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw new AggregateError(errors, `cleanupAll(${config.prefix}): ${errors.map(String).join('; ')}`);
}
