import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Why a tenant file was refused (TenantFileError.code). */
export type TenantFileRule = 'bad-path' | 'symbolic-link' | 'not-a-file' | 'hard-link' | 'too-large';

/**
 * A tenant file the platform refused to read: the message names the file and the rule, and says
 * what to change, e.g. `Procfile is a symbolic link: ...`. Thrown only for what the tenant can fix.
 */
export class TenantFileError extends Error {
  constructor(
    readonly file: string,
    readonly code: TenantFileRule,
    message: string,
  ) {
    super(message);
    this.name = 'TenantFileError';
  }
}

export interface ReadTenantFileOptions {
  /** Largest size accepted, in bytes; a larger file is a TenantFileError `too-large`. */
  maxBytes: number;
  /** How the file is named in messages (default: the relative path). */
  label?: string;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** `/proc/self/fd/<fd>/<name>`: the entry `name` of an open directory, as openat(2) would find it. */
const inDir = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

/**
 * Reads `relativePath` below `root` (a directory the platform made, e.g. a build's /tmp/app) as
 * a root process may read a file a tenant wrote: every component is opened relative to the one
 * before it (through /proc/self/fd, which gives openat semantics) with O_NOFOLLOW, so no symbolic
 * link is followed anywhere on the way, not even a directory swapped for one while we walk; the
 * file is opened O_NONBLOCK (a FIFO cannot hang the caller) and must be a regular file (fstat) of
 * at most `maxBytes`, with one name only (no hard link to a file elsewhere). Returns undefined when the file (or a directory on its way) does not exist.
 * Throws TenantFileError for a link (symbolic or hard), a non-file, a path with `..`, or a file too large; other
 * errors (EACCES, EIO) as they are. Linux only (the cell and the controller run there).
 */
export async function readTenantFile(root: string, relativePath: string, options: ReadTenantFileOptions): Promise<Buffer | undefined> {
  const label = options.label ?? relativePath;
  const parts = relativePath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..') || relativePath.startsWith('/') || relativePath.includes('\0')) {
    throw new TenantFileError(label, 'bad-path', `${label}: the platform reads only files inside the app, by a relative path without ".."`);
  }
  const opened: FileHandle[] = [];
  try {
    let dir = await open(root, DIR_FLAGS);
    opened.push(dir);
    for (const [i, part] of parts.slice(0, -1).entries()) {
      const next = await openOrUndefined(inDir(dir, part), DIR_FLAGS);
      if (next === undefined) return undefined;
      if (next === 'not-followed' || next === 'socket') {
        const where = parts.slice(0, i + 1).join('/');
        throw new TenantFileError(label, 'symbolic-link', `${label}: ${where} is a symbolic link (or not a directory), and the platform follows no link of the app: commit the files themselves`);
      }
      opened.push(next);
      dir = next;
    }
    const file = await openOrUndefined(inDir(dir, parts.at(-1)!), FILE_FLAGS);
    if (file === undefined) return undefined;
    if (file === 'socket') throw new TenantFileError(label, 'not-a-file', `${label} is a socket, not a regular file: commit it as a plain file`);
    if (file === 'not-followed') {
      throw new TenantFileError(label, 'symbolic-link', `${label} is a symbolic link, and the platform follows no link of the app: commit the file itself, not a link to it`);
    }
    opened.push(file);
    const info = await file.stat();
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device';
      throw new TenantFileError(label, 'not-a-file', `${label} is ${kind}, not a regular file: commit it as a plain file`);
    }
    // Another name of the same file may be outside the app (a host file linked in): none is trusted.
    if (info.nlink > 1) {
      throw new TenantFileError(label, 'hard-link', `${label} is a hard link (the file has ${info.nlink} names), and the platform reads no file that may live outside the app: commit it as a plain file`);
    }
    if (info.size > options.maxBytes) {
      throw new TenantFileError(label, 'too-large', `${label} has ${info.size} bytes; the platform reads at most ${options.maxBytes} bytes of it: make it smaller`);
    }
    // Read at most maxBytes + 1: a file that grows after fstat is still caught.
    const buffer = Buffer.alloc(options.maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > options.maxBytes) {
        throw new TenantFileError(label, 'too-large', `${label} has more than ${options.maxBytes} bytes, the most the platform reads of it: make it smaller`);
      }
    }
    return buffer.subarray(0, length);
  } finally {
    for (const handle of opened.reverse()) await handle.close().catch(() => undefined);
  }
}

/** Reads a tenant file as UTF-8 text (a leading BOM dropped); see readTenantFile. */
export async function readTenantText(root: string, relativePath: string, options: ReadTenantFileOptions): Promise<string | undefined> {
  const data = await readTenantFile(root, relativePath, options);
  return data?.toString('utf8').replace(/^\uFEFF/, '');
}

/**
 * Opens `path`; undefined when it does not exist, 'not-followed' when it is a link (or not a
 * directory where one was asked), 'socket' for a socket (which open(2) refuses with ENXIO).
 */
async function openOrUndefined(path: string, flags: number): Promise<FileHandle | undefined | 'not-followed' | 'socket'> {
  try {
    return await open(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'ENOTDIR') return 'not-followed';
    if (code === 'ENXIO') return 'socket';
    throw error;
  }
}
