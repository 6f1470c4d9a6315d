import type { z } from 'zod';
import { parseDocument } from 'yaml';
import { APP_KEYS, PROCESS_ENTRY_KEYS, PROCESS_KEYS, ROUTE_ENTRY_UNSUPPORTED, UNSUPPORTED, unknownKeyMessage } from './manifest-keys';
import { parseManifestRoute, schemas } from './manifest-values';
import { ENV_NAME_PATTERN, ENV_NAME_RULE, ENV_VALUE_MAX_CHARS, findTextProblems, RESERVED_ENV, RESERVED_ENV_RULE, showValue as show } from '@paas/contracts';

export { parseManifestRoute } from './manifest-values';

/**
 * A Cloud Foundry `manifest.yml`, parsed for one push. Pure: text in, the settings of the app
 * being pushed out, with every warning and error naming its key path
 * (`applications[0].processes[1].memory`) and the rule it breaks.
 *
 * What it accepts is docs/manifest.md. In short: `applications:` (with an optional `version: 1`),
 * and per app `name`, `instances`, `memory`, `disk_quota`, `cpu`, `routes`, `random-route`, `no-route`,
 * `env`, `command`, `buildpacks` (and the deprecated `buildpack`), `health-check-type`,
 * `health-check-http-endpoint`, `timeout` and `processes`. The YAML is read as YAML 1.2 (so
 * `yes`/`on` are strings, booleans are `true`/`false`), with `<<` merge keys.
 */

export type HealthCheckKind = 'port' | 'http' | 'process';

/** What a manifest says about one process type; a field it does not give leaves the process as it is. */
export interface ManifestProcess {
  instances?: number;
  memoryMb?: number;
  diskMb?: number;
  /** CPU quota in millicores (`cpu: 0.5` or `cpu: 500m`); null: no quota. */
  cpuMillicores?: number | null;
  /** null: back to the command of the Procfile or the buildpack. */
  command?: string | null;
  healthCheckType?: HealthCheckKind;
  healthCheckEndpoint?: string;
  healthCheckTimeoutS?: number;
  /** Where these settings are written, for messages: `applications[0]` or `applications[0].processes[1]`. */
  path: string;
}

export interface ManifestRoute {
  /** As written, host and domain lowercased: `shop.apps.example.com/api`. */
  route: string;
  /** The fully qualified host: `shop.apps.example.com`. */
  fqdn: string;
  /** '' or a prefix like `/api`. */
  path: string;
  /** The key path of the entry, for messages: `applications[0].routes[1].route`. */
  key: string;
}

/** The settings of the app being pushed. */
export interface ManifestApp {
  /** Its index under `applications`. */
  index: number;
  name?: string;
  /** By process type; `web` holds the app-level instances, memory, command, health check, ... */
  processes: Record<string, ManifestProcess>;
  routes: ManifestRoute[];
  randomRoute: boolean;
  noRoute: boolean;
  /** Values stringified as Cloud Foundry does: 3 -> "3", true -> "true". */
  env: Record<string, string>;
  /** The one buildpack named (`buildpacks: [x]` or `buildpack: x`); undefined: detection. */
  buildpack?: string;
}

export interface ManifestIssue {
  /** The key path, e.g. `applications[0].memory`; '' for the file as a whole. */
  path: string;
  message: string;
}

/** `app` is set exactly when there is no error. */
export interface ManifestParseResult {
  app?: ManifestApp;
  warnings: ManifestIssue[];
  errors: ManifestIssue[];
}

export function formatManifestIssue(issue: ManifestIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Routes one manifest may list. */
export const MANIFEST_MAX_ROUTES = 100;
/** Process entries one manifest app may list. */
export const MANIFEST_MAX_PROCESSES = 50;

// ---------------------------------------------------------------------------------------------
// Parsing

type Issues = Pick<ManifestParseResult, 'warnings' | 'errors'>;
type YamlMap = Record<string, unknown>;

const isMap = (v: unknown): v is YamlMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (base: string, key: string | number) => (typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key);

function check<T>(schema: z.ZodType<T>, value: unknown, path: string, issues: Issues): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  issues.errors.push({ path, message: parsed.error.issues[0]?.message ?? 'invalid value' });
  return undefined;
}

function warnUnknownKeys(map: YamlMap, known: readonly string[], path: string, issues: Issues, unsupported?: Record<string, string>): void {
  for (const key of Object.keys(map)) {
    if (!known.includes(key)) issues.warnings.push({ path: at(path, key), message: unknownKeyMessage(key, known, unsupported) });
  }
}

/** The process settings (PROCESS_KEYS) written in `map`, validated. */
function processSettings(map: YamlMap, path: string, issues: Issues): ManifestProcess {
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

function parseRoutes(value: unknown, path: string, issues: Issues): ManifestRoute[] {
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

function parseEnv(value: unknown, path: string, issues: Issues): Record<string, string> {
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

function parseBuildpack(entry: YamlMap, path: string, issues: Issues): string | undefined {
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

function parseProcesses(value: unknown, path: string, issues: Issues): Array<{ type: string; settings: ManifestProcess }> {
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
function mergeWeb(appLevel: ManifestProcess, entry: ManifestProcess, issues: Issues): ManifestProcess {
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

function parseApp(entry: YamlMap, index: number, issues: Issues): ManifestApp {
  const path = at('applications', index);
  warnUnknownKeys(entry, APP_KEYS, path, issues, UNSUPPORTED);
  const web = processSettings(entry, path, issues);
  const processes: Record<string, ManifestProcess> = {};
  const hasWebSettings = PROCESS_KEYS.some((k) => k in entry);
  if (hasWebSettings) processes.web = web;
  if ('processes' in entry) {
    for (const { type, settings } of parseProcesses(entry.processes, at(path, 'processes'), issues)) {
      processes[type] = type === 'web' && processes.web ? mergeWeb(processes.web, settings, issues) : settings;
    }
  }
  const routes = 'routes' in entry ? parseRoutes(entry.routes, at(path, 'routes'), issues) : [];
  const randomRoute = 'random-route' in entry ? (check(schemas.boolean, entry['random-route'], at(path, 'random-route'), issues) ?? false) : false;
  const noRoute = 'no-route' in entry ? (check(schemas.boolean, entry['no-route'], at(path, 'no-route'), issues) ?? false) : false;
  if (noRoute && 'routes' in entry && Array.isArray(entry.routes) && entry.routes.length > 0) {
    issues.errors.push({ path: at(path, 'no-route'), message: 'no-route: true and routes contradict each other: remove one' });
  }
  if (noRoute && randomRoute) {
    issues.errors.push({ path: at(path, 'no-route'), message: 'no-route: true and random-route: true contradict each other: remove one' });
  }
  if (randomRoute && routes.length > 0) {
    issues.warnings.push({ path: at(path, 'random-route'), message: 'ignored: the app gets the routes listed under routes' });
  }
  const env = 'env' in entry && entry.env !== null ? parseEnv(entry.env, at(path, 'env'), issues) : {};
  const buildpack = parseBuildpack(entry, path, issues);
  const name = 'name' in entry ? check(schemas.name, entry.name, at(path, 'name'), issues) : undefined;
  return {
    index,
    ...(name !== undefined ? { name } : {}),
    processes,
    routes,
    randomRoute: randomRoute && routes.length === 0,
    noRoute,
    env,
    ...(buildpack !== undefined ? { buildpack } : {}),
  };
}

/** The index of the entry for `appName`; errors and warnings say why when it is not obvious. */
function selectEntry(entries: YamlMap[], appName: string, issues: Issues): number | undefined {
  const names = entries.map((e) => (typeof e.name === 'string' ? e.name : undefined));
  if (entries.length === 1) {
    if (names[0] !== undefined && names[0] !== appName) {
      issues.warnings.push({
        path: 'applications[0].name',
        message: `the manifest names app ${show(names[0])}, but this push goes to ${appName}: the git remote decides the app, so these settings apply to ${appName}`,
      });
    }
    return 0;
  }
  const matches = names.flatMap((n, i) => (n === appName ? [i] : []));
  if (matches.length === 0) {
    const listed = names.map((n) => (n === undefined ? '(no name)' : n)).join(', ');
    issues.errors.push({
      path: 'applications',
      message: `none of the ${entries.length} apps is named ${appName} (it names: ${listed}): add an entry with name: ${appName}, the app this git remote pushes to`,
    });
    return undefined;
  }
  if (matches.length > 1) {
    issues.errors.push({
      path: `applications[${matches[1]}].name`,
      message: `${appName} is named twice (also applications[${matches[0]}]): keep one entry`,
    });
    return undefined;
  }
  return matches[0];
}

/** BigInts that fit a number become numbers (instances: 3); longer ones stay BigInt (env values keep their digits). */
function safeIntegers(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(safeIntegers);
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, safeIntegers(v)]));
  return value;
}

/**
 * Parses manifest text for a push to `appName`. Never throws: invalid YAML, a missing app and
 * invalid values are errors; unknown keys and deprecated forms are warnings.
 */
export function parseManifest(text: string, appName: string): ManifestParseResult {
  const issues: Issues = { warnings: [], errors: [] };
  // Integers as BigInt, so that a long number in env keeps every digit; safe ones become numbers again below.
  const doc = parseDocument(text, { merge: true, prettyErrors: true, intAsBigInt: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const where = error.linePos?.[0];
      const reason = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      issues.errors.push({ path: '', message: `invalid YAML${where ? ` at line ${where.line}, column ${where.col}` : ''}: ${reason}` });
    }
    return issues;
  }
  for (const warning of doc.warnings) {
    const where = warning.linePos?.[0];
    issues.warnings.push({ path: '', message: `${where ? `line ${where.line}: ` : ''}${warning.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
  }
  let root: unknown;
  try {
    root = safeIntegers(doc.toJS({ maxAliasCount: 100 }));
  } catch (error) {
    // An alias without its anchor, or aliases that expand too much (a "billion laughs" file).
    issues.errors.push({ path: '', message: `invalid YAML: ${(error as Error).message}` });
    return issues;
  }
  if (root === null || root === undefined) {
    issues.errors.push({ path: '', message: 'the manifest is empty: list the app under applications:, e.g. "applications: [{name: myapp, instances: 2}]"' });
    return issues;
  }
  if (!isMap(root)) {
    issues.errors.push({ path: '', message: `must be a map with an applications list (got ${show(root)})` });
    return issues;
  }
  warnUnknownKeys(root, ['applications', 'version'], '', issues, {});
  if ('version' in root && root.version !== 1) {
    issues.errors.push({ path: 'version', message: `only version 1 is supported (got ${show(root.version)})` });
  }
  if (/\(\([A-Za-z0-9_.-]+\)\)/.test(text)) {
    issues.warnings.push({ path: '', message: '((variables)) are not substituted here (there is no --vars-file): they stay as written; write the values themselves' });
  }
  const apps = root.applications;
  if (!Array.isArray(apps) || apps.length === 0) {
    issues.errors.push({
      path: 'applications',
      message: `must be a list with the app's settings, e.g. "applications: [{name: myapp, instances: 2}]" (got ${show(apps)})`,
    });
    return issues;
  }
  const bad = apps.findIndex((a) => !isMap(a));
  if (bad >= 0) {
    issues.errors.push({ path: `applications[${bad}]`, message: `must be a map of settings, like {name: myapp, instances: 2} (got ${show(apps[bad])})` });
    return issues;
  }
  const index = selectEntry(apps as YamlMap[], appName, issues);
  if (index === undefined) return issues;
  // A NUL, a lone surrogate or a stray control character anywhere in the app's entry (an env
  // value, a command, a route) is refused here, before staging, with its key path.
  const badText = findTextProblems(apps[index], `applications[${index}]`);
  if (badText.length > 0) {
    issues.errors.push(...badText.map((p) => ({ path: p.field, message: p.rule })));
    return issues;
  }
  const app = parseApp(apps[index] as YamlMap, index, issues);
  return issues.errors.length > 0 ? issues : { ...issues, app };
}
