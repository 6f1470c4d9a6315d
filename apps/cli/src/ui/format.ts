import { formatCpu, parseCpuMillicores, parseSizeMb } from '@paas/contracts';

/** Megabytes as people write them: 512M, 1G, 1.5G. Pure. */
export function formatMb(mb: number): string {
  if (mb >= 1024) {
    const g = mb / 1024;
    return `${Number.isInteger(g) ? g : g.toFixed(1)}G`;
  }
  return `${Math.round(mb)}M`;
}

/** Bytes in the largest unit that keeps a number of 1 or more: 812K, 41.3M, 1.2G. Pure. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['K', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

/** A duration in seconds, short: 45s, 12m, 3h20m, 2d4h. Pure. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** How long ago an ISO time was, from `now`: "12s ago", "3h20m ago". Pure. */
export function ago(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${formatDuration((now - t) / 1000)} ago`;
}

/** An ISO time as local "YYYY-MM-DD HH:MM:SS". */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * A size flag (`-m 512M`, `-k 1G`) to megabytes with the platform's one size parser (the
 * manifest's: M, MB, MiB, G, GB, GiB, T; 1G = 1024M); a message naming the flag when it is none.
 */
export function parseSizeFlag(flag: string, value: string): number | string {
  const mb = parseSizeMb(value);
  return typeof mb === 'string' ? `${flag} ${mb}` : mb;
}

/**
 * `--cpu` to millicores with the manifest's parser (cores like 0.5 or 2, millicores like 500m);
 * `none` (or `unlimited`) is null: remove the quota. A message naming the flag when it is none.
 */
export function parseCpuFlag(value: string): number | null | string {
  if (/^\s*(none|unlimited)\s*$/i.test(value)) return null;
  const millicores = parseCpuMillicores(value);
  return typeof millicores === 'string' ? `--cpu ${millicores}, or none to remove the quota` : millicores;
}

/** A process's CPU quota for people: "0.5" (cores), or "none". Pure. */
export function formatCpuLimit(millicores: number | null): string {
  return millicores === null ? 'none' : formatCpu(millicores);
}
