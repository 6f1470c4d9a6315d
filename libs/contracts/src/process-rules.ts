/**
 * The limits of a process and the rules of an app's environment, shared by every door they come
 * in through: the API (scale, process update, env patch) and a pushed manifest.yml. Pure data.
 */
export const PROCESS_LIMITS = {
  instances: { min: 0, max: 500 },
  memoryMb: { min: 16, max: 65_536 },
  diskMb: { min: 64, max: 1_048_576 },
  /** CPU quota in millicores (1000 = one core): 10m is the kernel's smallest quota, 1 ms per 100 ms. */
  cpuMillicores: { min: 10, max: 64_000 },
  healthCheckTimeoutS: { min: 1, max: 600 },
  commandMaxChars: 4096,
} as const;

/** Process type names: `web`, `worker`, `clock`, ... (as a route destination's process_type). */
export const PROCESS_TYPE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_NAME_RULE = 'variable names are letters, digits and "_", not starting with a digit';

/** Variables the platform sets for every instance; an app may not override them. */
export const RESERVED_ENV = /^(PORT|INSTANCE_INDEX|MEMORY_LIMIT|VCAP_[A-Z_]+|CF_[A-Z_]+)$/;
export const RESERVED_ENV_RULE = 'PORT, INSTANCE_INDEX, MEMORY_LIMIT, VCAP_* and CF_* are set by the platform';

export const ENV_VALUE_MAX_CHARS = 65_536;
