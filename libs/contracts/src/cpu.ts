import { PROCESS_LIMITS } from './process-rules';

/**
 * A process's CPU limit, as a user writes it (manifest `cpu`, `paas scale --cpu`): cores like
 * Docker's `--cpus` (`0.5`, `2`, `1.5`) or millicores like Kubernetes (`500m`), to millicores.
 * Pure; the API itself takes `cpu_millicores`, a whole number.
 */
export const CPU_RULE = 'must be CPU cores like 0.5 or 2, or millicores like 500m';

const L = PROCESS_LIMITS.cpuMillicores;

/** Millicores as cores, for messages and views: 500 -> "0.5", 2000 -> "2". Pure. */
export function formatCpu(millicores: number): string {
  return String(millicores / 1000);
}

const show = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

/**
 * Cores (`0.5`, `"0.5"`, `2`, `"1 core"`, `"2 cpus"`) or millicores (`"500m"`) to whole
 * millicores, from 10m (0.01) to 64 cores; a message naming the valid forms when it is none of
 * them. Pure.
 */
export function parseCpuMillicores(value: unknown): number | string {
  let millicores: number | undefined;
  if (typeof value === 'number') {
    millicores = value * 1000;
  } else if (typeof value === 'string') {
    const text = value.trim();
    const cores = /^(\d+(?:\.\d+)?|\.\d+)\s*(?:cores?|cpus?)?$/i.exec(text);
    const milli = /^(\d+)\s*m$/.exec(text);
    if (cores) millicores = Number(cores[1]) * 1000;
    else if (milli) millicores = Number(milli[1]);
    else if (/^\d+(?:\.\d+)?\s*%$/.test(text)) {
      return `${CPU_RULE} (got ${show(value)}): a percentage of one core is cores/100, so write ${Number(text.replace('%', '').trim()) / 100}`;
    } else if (/^\d+(?:\.\d+)?\s*M$/.test(text)) {
      return `${CPU_RULE} (got ${show(value)}): a capital M is megabytes; millicores take a small m, like 500m`;
    } else if (/^\d+\.\d+\s*m$/.test(text)) {
      return `${CPU_RULE} (got ${show(value)}): millicores are whole numbers, like 250m`;
    }
  }
  if (millicores === undefined || !Number.isFinite(millicores)) return `${CPU_RULE} (got ${show(value)})`;
  // 0.0005 cores is half a millicore: no whole-millicore quota says that.
  const rounded = Math.round(millicores);
  if (Math.abs(rounded - millicores) > 1e-6) return `${CPU_RULE}, at most 3 decimals (got ${show(value)})`;
  if (rounded < L.min || rounded > L.max) {
    return `must be from ${formatCpu(L.min)} (${L.min}m) to ${formatCpu(L.max)} cores (got ${show(value)})`;
  }
  return rounded;
}
