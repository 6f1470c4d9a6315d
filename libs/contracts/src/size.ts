/**
 * Sizes as users write them (512M, 1.5G) in manifests and on the command line, and values quoted
 * in a message. Pure.
 */

/** A value as quoted in a message: strings in quotes, the rest as JSON, long ones cut. */
export function showValue(value: unknown): string {
  const json = (v: unknown) => JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  const text = value === undefined ? 'nothing' : typeof value === 'bigint' ? value.toString() : (json(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Megabytes as the manifest writes them: 1G when whole gigabytes, else 512M. */
export function formatSizeMb(mb: number): string {
  return mb % 1024 === 0 ? `${mb / 1024}G` : `${mb}M`;
}

const UNIT_MB: Record<string, number> = { M: 1, MB: 1, MIB: 1, G: 1024, GB: 1024, GIB: 1024, T: 1024 * 1024, TB: 1024 * 1024, TIB: 1024 * 1024 };
const SIZE_RULE = 'must be a size with a unit, like 512M or 1G';

/**
 * A size with a unit (M, MB, MiB, G, GB, GiB, T, TB, TiB; any case; 1G = 1024M, as on Cloud
 * Foundry) to whole megabytes; a message when it is not one. Pure.
 */
export function parseSizeMb(value: unknown): number | string {
  const bare = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : undefined;
  if (bare !== undefined) return `${SIZE_RULE} (got ${showValue(value)}): a bare number has no unit; write ${bare}M, or a size like 512M or 1G`;
  if (typeof value !== 'string') return `${SIZE_RULE} (got ${showValue(value)})`;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value);
  const factor = match ? UNIT_MB[match[2].toUpperCase()] : undefined;
  if (!match || factor === undefined) return `${SIZE_RULE} (got ${showValue(value)})`;
  const mb = Number(match[1]) * factor;
  if (!Number.isInteger(mb)) return `must be a whole number of megabytes, like 1536M or 1.5G (got ${showValue(value)})`;
  return mb;
}
