import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Paths the controller answers itself: the dashboard never serves nor falls back on them, whatever
 * its build holds (`/_...` stays free for the platform's own pages).
 */
export const RESERVED_PREFIXES = ['/v1', '/git', '/internal', '/metrics', '/health', '/_'] as const;

export function isReservedPath(path: string): boolean {
  return RESERVED_PREFIXES.some((p) => path === p || path.startsWith(p === '/_' ? p : `${p}/`));
}

/** Vite puts every content-hashed file under /assets/: safe to cache for a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and unhashed files: revalidated on every load (ETag), so a new build shows at once. */
export const REVALIDATE = 'no-cache';

export function cacheControlFor(urlPath: string): string {
  return urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE;
}

/**
 * The file under `root` a URL path names, or undefined when it would leave `root` (`..`,
 * encoded or not), names a dotfile, or holds a NUL. `urlPath` is already percent-decoded.
 */
export function fileFor(root: string, urlPath: string): string | undefined {
  if (urlPath.includes('\0') || !urlPath.startsWith('/')) return undefined;
  const file = resolve(root, `.${urlPath}`);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  if (rel.split(sep).some((part) => part.startsWith('.'))) return undefined;
  return file;
}

/**
 * Whether a request that names no file gets index.html (the dashboard's own routing): `/`, and
 * page navigations (Accept: text/html) to paths without a file extension. An API client asking for
 * an unknown path keeps getting the API's 404.
 */
export function wantsAppShell(urlPath: string, accept: string | undefined): boolean {
  if (urlPath === '/') return true;
  if (extname(urlPath) !== '') return false;
  return (accept ?? '').includes('text/html');
}
