import { createHash } from 'node:crypto';

/**
 * The sha512 digests (base64) of a Subresource Integrity string as npm registries give it in
 * `dist.integrity` (`sha512-<base64>`, possibly several, space-separated, with `?options`).
 * Other algorithms are ignored: the cell accepts nothing weaker than sha512.
 */
export function sha512Digests(integrity: string | undefined): string[] {
  return (integrity ?? '')
    .split(/\s+/)
    .filter((token) => token.startsWith('sha512-'))
    .map((token) => token.slice('sha512-'.length).split('?')[0]);
}

/** A running sha512 over a download, compared with a registry's SRI string at the end. */
export class Sha512Check {
  private readonly hash = createHash('sha512');

  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }

  /** The download's own SRI (`sha512-<base64>`). Call once, after the last update. */
  digest(): string {
    return `sha512-${this.hash.digest('base64')}`;
  }
}

/** True when `actual` (`sha512-<base64>`) is one of the sha512 digests of `expected`. */
export function integrityMatches(expected: string | undefined, actual: string): boolean {
  return sha512Digests(expected).some((digest) => `sha512-${digest}` === actual);
}
