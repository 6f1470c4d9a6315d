/** The sections of a manifest app entry (process settings, routes, env, buildpacks, processes), each checked on its own. */
import type { z } from 'zod';
import { PROCESS_ENTRY_KEYS, ROUTE_ENTRY_UNSUPPORTED, unknownKeyMessage } from './manifest-keys';
import { parseManifestRoute, schemas } from './manifest-values';
import type { ManifestParseResult, ManifestProcess, ManifestRoute, ManifestService } from './manifest-types';
import { MANIFEST_MAX_PROCESSES, MANIFEST_MAX_ROUTES, MANIFEST_MAX_SERVICES } from './manifest-types';
import { ENV_NAME_PATTERN, ENV_NAME_RULE, ENV_VALUE_MAX_CHARS, RESERVED_ENV, RESERVED_ENV_RULE, showValue as show } from '@paas/contracts';

export type Issues = Pick<ManifestParseResult, 'warnings' | 'errors'>;
export type YamlMap = Record<string, unknown>;

export const isMap = (v: unknown): v is YamlMap => typeof v === 'object' && v !== null && !Array.isArray(v);
export const at = (base: string, key: string | number) => (typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key);

export function check<T>(schema: z.ZodType<T>, value: unknown, path: string, issues: Issues): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  issues.errors.push({ path, message: parsed.error.issues[0]?.message ?? 'invalid value' });
  return undefined;
}

export function warnUnknownKeys(map: YamlMap, known: readonly string[], path: string, issues: Issues, unsupported?: Record<string, string>): void {
  for (const key of Object.keys(map)) {
    if (!known.includes(key)) issues.warnings.push({ path: at(path, key), message: unknownKeyMessage(key, known, unsupported) });
  }
}

/** The process settings (PROCESS_KEYS) written in `map`, validated. */
export function processSettings(map: YamlMap, path: string, issues: Issues): ManifestProcess {
  const out: ManifestProcess = { path };
  const has = (key: string) => Object.prototype.hasOwnProperty.call(map, key);
  if (has('instances')) out.instances = check(schemas.instances, map.instances, at(path, 'instances'), issues);
  if (has('memory')) out.memoryMb = check(schemas.memory, map.memory, at(path, 'memory'), issues);
  if (has('disk_quota')) out.diskMb = check(schemas.disk_quota, map.disk_quota, at(path, 'disk_quota'), issues);
  if (has('cpu')) out.cpuMillicores = check(schemas.cpu, map.cpu, at(path, 'cpu'), issues);
  if (has('command')) out.command = check(schemas.command, map.command, at(path, 'command'), issues);
  if (has('timeout')) out.healthCheckTimeoutS = check(schemas.timeout, map.timeout, at(path, 'timeout'), issues);
  if (has('health-check-type')) {
    const type = check(schemas['health-check-type'], map['health-check-type'], at(path, 'health-check-type'), issues);
    if (type === 'none') {
      issues.warnings.push({
        path: at(path, 'health-check-type'),
        message: '"none" is deprecated in Cloud Foundry and means process: write health-check-type: process',
      });
    }
    out.healthCheckType = type === 'none' ? 'process' : type;
  }
  if (has('health-check-http-endpoint')) {
    const endpoint = check(schemas['health-check-http-endpoint'], map['health-check-http-endpoint'], at(path, 'health-check-http-endpoint'), issues);
    if (endpoint !== undefined && out.healthCheckType !== undefined && out.healthCheckType !== 'http') {
      issues.warnings.push({
        path: at(path, 'health-check-http-endpoint'),
        message: `only an http health check uses an endpoint; ignored with health-check-type: ${out.healthCheckType}`,
      });
    } else {
      out.healthCheckEndpoint = endpoint;
    }
  }
  for (const key of Object.keys(out) as Array<keyof ManifestProcess>) if (out[key] === undefined) delete out[key];
  return out;
}

export function parseRoutes(value: unknown, path: string, issues: Issues): ManifestRoute[] {
  if (!Array.isArray(value)) {
    issues.errors.push({ path, message: `must be a list of {route: HOST.DOMAIN[/PATH]} (got ${show(value)})` });
    return [];
  }
  if (value.length > MANIFEST_MAX_ROUTES) {
    issues.errors.push({ path, message: `at most ${MANIFEST_MAX_ROUTES} routes (got ${value.length})` });
    return [];
  }
  const out: ManifestRoute[] = [];
  for (const [i, entry] of value.entries()) {
    const entryPath = at(path, i);
    if (!isMap(entry) || !('route' in entry)) {
      issues.errors.push({ path: entryPath, message: `must be {route: HOST.DOMAIN[/PATH]} (got ${show(entry)})` });
      continue;
    }
    warnUnknownKeys(entry, ['route'], entryPath, issues, ROUTE_ENTRY_UNSUPPORTED);
    const key = at(entryPath, 'route');
    const parsed = parseManifestRoute(entry.route);
    if (typeof parsed === 'string') {
      issues.errors.push({ path: key, message: parsed });
      continue;
    }
    const twin = out.find((r) => r.route === parsed.route);
    if (twin) {
      issues.warnings.push({ path: key, message: `${parsed.route} is listed twice (also ${twin.key}); bound once` });
      continue;
    }
    out.push({ ...parsed, key });
  }
  return out;
}

export function parseEnv(value: unknown, path: string, issues: Issues): Record<string, string> {
  if (!isMap(value)) {
    issues.errors.push({ path, message: `must be a map of NAME: value (got ${show(value)})` });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    const key = at(path, name);
    if (!ENV_NAME_PATTERN.test(name)) issues.errors.push({ path: key, message: ENV_NAME_RULE });
    else if (RESERVED_ENV.test(name)) issues.errors.push({ path: key, message: RESERVED_ENV_RULE });
    else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') {
      const text = String(raw);
      if (text.length > ENV_VALUE_MAX_CHARS) issues.errors.push({ path: key, message: `a value may have at most ${ENV_VALUE_MAX_CHARS} characters (got ${text.length})` });
      else out[name] = text;
    } else if (raw === null || raw === undefined) {
      issues.errors.push({ path: key, message: 'must have a value (a string, number or boolean): remove the line, or unset the variable with PATCH /v1/apps/NAME/env' });
    } else {
      issues.errors.push({ path: key, message: `must be a string, number or boolean (got ${show(raw)}): quote structured values, e.g. '{"a": 1}'` });
    }
  }
  return out;
}

export function parseBuildpack(entry: YamlMap, path: string, issues: Issues): string | undefined {
  const hasList = 'buildpacks' in entry;
  const hasOne = 'buildpack' in entry;
  if (hasList && hasOne) {
    issues.errors.push({ path: at(path, 'buildpack'), message: 'give buildpacks or buildpack, not both: write buildpacks: [NAME]' });
    return undefined;
  }
  let name: unknown;
  let key: string;
  if (hasOne) {
    key = at(path, 'buildpack');
    issues.warnings.push({ path: key, message: `deprecated in Cloud Foundry: write buildpacks: [${typeof entry.buildpack === 'string' ? entry.buildpack : 'NAME'}]` });
    name = entry.buildpack;
  } else if (hasList) {
    const list = entry.buildpacks;
    if (list === null) return undefined;
    if (!Array.isArray(list)) {
      issues.errors.push({ path: at(path, 'buildpacks'), message: `must be a list with one buildpack name, like [nodejs] (got ${show(list)})` });
      return undefined;
    }
    if (list.length > 1) {
      issues.errors.push({ path: at(path, 'buildpacks'), message: `multi-buildpack is not supported: name one (got ${list.length}: ${list.map((b) => String(b)).join(', ')})` });
      return undefined;
    }
    if (list.length === 0) return undefined;
    key = at(at(path, 'buildpacks'), 0);
    name = list[0];
  } else {
    return undefined;
  }
  // Cloud Foundry's way to ask for detection.
  if (name === null || name === 'default' || name === 'null') return undefined;
  return check(schemas.buildpackName, name, key, issues);
}

export function parseProcesses(value: unknown, path: string, issues: Issues): Array<{ type: string; settings: ManifestProcess }> {
  if (!Array.isArray(value)) {
    issues.errors.push({ path, message: `must be a list of {type: NAME, instances, memory, ...} (got ${show(value)})` });
    return [];
  }
  if (value.length > MANIFEST_MAX_PROCESSES) {
    issues.errors.push({ path, message: `at most ${MANIFEST_MAX_PROCESSES} process types (got ${value.length})` });
    return [];
  }
  const out: Array<{ type: string; settings: ManifestProcess }> = [];
  for (const [i, entry] of value.entries()) {
    const entryPath = at(path, i);
    if (!isMap(entry)) {
      issues.errors.push({ path: entryPath, message: `must be a map like {type: worker, instances: 1} (got ${show(entry)})` });
      continue;
    }
    warnUnknownKeys(entry, PROCESS_ENTRY_KEYS, entryPath, issues);
    if (!('type' in entry)) {
      issues.errors.push({ path: at(entryPath, 'type'), message: 'is required: the process type, like worker (as in the Procfile)' });
      continue;
    }
    const type = check(schemas.type, entry.type, at(entryPath, 'type'), issues);
    if (type === undefined) continue;
    if (type === 'release') {
      issues.errors.push({
        path: at(entryPath, 'type'),
        message: 'release is not a process: a Procfile "release:" command runs once per deploy and takes no instances; remove this entry',
      });
      continue;
    }
    const twin = out.find((p) => p.type === type);
    if (twin) {
      issues.errors.push({ path: at(entryPath, 'type'), message: `process type ${type} is listed twice (also ${twin.settings.path}): keep one entry` });
      continue;
    }
    out.push({ type, settings: processSettings(entry, entryPath, issues) });
  }
  return out;
}

/** The app-level web settings and a `processes` entry of type web, merged; a setting given in both is an error. */
export function mergeWeb(appLevel: ManifestProcess, entry: ManifestProcess, issues: Issues): ManifestProcess {
  const merged: ManifestProcess = { ...appLevel, path: entry.path };
  const fieldKey: Record<string, string> = {
    instances: 'instances',
    memoryMb: 'memory',
    diskMb: 'disk_quota',
    cpuMillicores: 'cpu',
    command: 'command',
    healthCheckType: 'health-check-type',
    healthCheckEndpoint: 'health-check-http-endpoint',
    healthCheckTimeoutS: 'timeout',
  };
  for (const [field, key] of Object.entries(fieldKey)) {
    const value = entry[field as keyof ManifestProcess];
    if (value === undefined) continue;
    if (appLevel[field as keyof ManifestProcess] !== undefined) {
      issues.errors.push({ path: at(entry.path, key), message: `web's ${key} is also set at ${at(appLevel.path, key)}: set it in one place` });
    }
    Object.assign(merged, { [field]: value });
  }
  return merged;
}

/** A service instance's name: the app-name rules (the API's). */
const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SERVICE_NAME_RULE = 'a service instance name: lowercase letters, digits and hyphens (not at either end), at most 63 characters';

/**
 * `services:`, Cloud Foundry's list of instances to bind: names, or maps with `name`
 * (`parameters` and `binding_name` are not supported: warned and ignored). A name listed twice is
 * bound once (warned).
 */
export function parseServices(value: unknown, path: string, issues: Issues): ManifestService[] {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    issues.errors.push({ path, message: 'must be a list of service instance names, like [orders-db] or [{name: orders-db}]' });
    return [];
  }
  if (value.length > MANIFEST_MAX_SERVICES) {
    issues.errors.push({ path, message: `at most ${MANIFEST_MAX_SERVICES} services (got ${value.length})` });
    return [];
  }
  const out: ManifestService[] = [];
  value.forEach((entry, i) => {
    const key = at(path, i);
    let name: unknown = entry;
    if (isMap(entry)) {
      warnUnknownKeys(entry, ['name'], key, issues, {
        parameters: 'service parameters are not supported: the plan decides; ignored',
        binding_name: 'binding names are not supported: VCAP_SERVICES names the binding after its instance; ignored',
      });
      name = entry.name;
    }
    if (typeof name !== 'string' || !SERVICE_NAME.test(name)) {
      issues.errors.push({ path: isMap(entry) ? at(key, 'name') : key, message: `must be ${SERVICE_NAME_RULE} (got ${show(name)})` });
      return;
    }
    if (out.some((s) => s.name === name)) {
      issues.warnings.push({ path: key, message: `${name} is listed twice: bound once` });
      return;
    }
    out.push({ name, key });
  });
  return out;
}
