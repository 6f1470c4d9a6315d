/** What a parsed `manifest.yml` says: the settings of one app, and the issues found on the way. */

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
  /** Names of service instances of the app's space to bind on push (`services: [a, {name: b}]`), each once. */
  services: ManifestService[];
}

export interface ManifestService {
  name: string;
  /** The key path of the entry, for messages: `applications[0].services[1]`. */
  key: string;
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
/** Services one manifest app may list. */
export const MANIFEST_MAX_SERVICES = 50;
/** Process entries one manifest app may list. */
export const MANIFEST_MAX_PROCESSES = 50;
