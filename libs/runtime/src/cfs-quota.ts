/** The CFS period a CPU quota is spread over, when the kernel's 1 ms minimum quota allows it. */
export const CFS_PERIOD_US = 10_000;

/** The kernel's smallest quota per period (cpu.cfs_quota_us, cpu.max), 1 ms. */
const MIN_QUOTA_US = 1_000;

/**
 * The CFS quota and period for a CPU limit of `millicores` (1000 = one core). Pure.
 *
 * The period is 10 ms, not the kernel's default 100 ms: a throttled app with more threads than
 * its quota's cores spends its whole quota at the start of each period on every core it can get,
 * and its neighbours wait that long; in a 10 ms period that is at most a few milliseconds (the
 * 100 ms period made a neighbour's p99 worse than no quota at all, see bench:cpu-neighbour).
 * Below 100m the period grows so that the quota stays at the kernel's 1 ms minimum (10m: 1 ms
 * per 100 ms).
 */
export function cfsQuota(millicores: number): { quota: number; period: number } {
  const period = Math.max(CFS_PERIOD_US, Math.ceil((MIN_QUOTA_US * 1000) / millicores));
  return { quota: Math.max(MIN_QUOTA_US, Math.round((millicores * period) / 1000)), period };
}
