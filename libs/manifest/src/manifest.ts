import { parseDocument } from 'yaml';
import { APP_KEYS, PROCESS_KEYS, UNSUPPORTED } from './manifest-keys';
import { schemas } from './manifest-values';
import { at, check, isMap, mergeWeb, parseBuildpack, parseEnv, parseProcesses, parseRoutes, parseServices, processSettings, warnUnknownKeys, type Issues, type YamlMap } from './manifest-sections';
import type { ManifestApp, ManifestParseResult, ManifestProcess } from './manifest-types';
import { findTextProblems, showValue as show } from '@paas/contracts';

export { parseManifestRoute } from './manifest-values';
export * from './manifest-types';

/**
 * A Cloud Foundry `manifest.yml`, parsed for one push. Pure: text in, the settings of the app
 * being pushed out, with every warning and error naming its key path
 * (`applications[0].processes[1].memory`) and the rule it breaks.
 *
 * What it accepts is docs/manifest.md. In short: `applications:` (with an optional `version: 1`),
 * and per app `name`, `instances`, `memory`, `disk_quota`, `cpu`, `routes`, `random-route`, `no-route`,
 * `env`, `command`, `buildpacks` (and the deprecated `buildpack`), `health-check-type`,
 * `health-check-http-endpoint`, `timeout`, `processes` and `services`. The YAML is read as YAML 1.2 (so
 * `yes`/`on` are strings, booleans are `true`/`false`), with `<<` merge keys.
 */

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
  const services = 'services' in entry ? parseServices(entry.services, at(path, 'services'), issues) : [];
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
    services,
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
