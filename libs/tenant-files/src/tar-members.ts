import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';

/** One archive member as tar parsers report it (node-tar's ReadEntry fits). */
export interface TarMember {
  path: string;
  /** node-tar's names: File, OldFile, ContiguousFile, Directory, SymbolicLink, Link, CharacterDevice, BlockDevice, FIFO, ... */
  type: string;
  linkpath?: string;
}

/** Member types a source package or a droplet may hold; devices and FIFOs are refused. */
const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Link']);

const unsafePath = (path: string) => path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\0') || path.split(/[\\/]/).includes('..');
/** `./a//b/` → `a/b`. */
const normalized = (path: string) => path.split('/').filter((p) => p !== '' && p !== '.').join('/');

/**
 * Checks the members of one archive (a tenant's source package or a droplet), in archive order,
 * before anything is unpacked: a member may not be an absolute path or have a `..` segment, may
 * not be a device or a FIFO, may not lie below a symbolic link of the archive (writing through it
 * would land outside), and a hard link must name a regular file that came earlier in the archive
 * (not a link, not a directory, not a path outside or through a symbolic link). A symbolic link
 * itself may point anywhere: it resolves inside the container, and the platform never follows it.
 * Contract: one instance per archive; call problem() once per member, in order.
 */
export class TarMemberCheck {
  private readonly symlinks = new Set<string>();
  private readonly files = new Set<string>();

  /** Why `entry` may not be unpacked, or undefined when it may. Records it for the members after it. */
  problem(entry: TarMember): string | undefined {
    const path = normalized(entry.path);
    const why = this.why(entry, path);
    this.symlinks.delete(path);
    this.files.delete(path);
    if (why === undefined) {
      if (entry.type === 'SymbolicLink') this.symlinks.add(path);
      if (FILE_TYPES.has(entry.type)) this.files.add(path);
    }
    return why;
  }

  private why(entry: TarMember, path: string): string | undefined {
    if (unsafePath(entry.path)) return `${entry.path}: an absolute path or a ".." segment`;
    if (!ALLOWED_TYPES.has(entry.type)) return `${entry.path}: a ${entry.type} (only files, directories and links are allowed)`;
    const through = this.symlinkOnTheWay(path);
    if (through) return `${entry.path}: inside ${through}, which is a symbolic link`;
    if (entry.type === 'Link') {
      const target = entry.linkpath === undefined ? '' : normalized(entry.linkpath);
      if (!entry.linkpath || unsafePath(entry.linkpath)) return `${entry.path}: a hard link to ${entry.linkpath ?? 'nothing'}, outside the package`;
      const via = this.symlinkOnTheWay(target) ?? (this.symlinks.has(target) ? target : undefined);
      if (via) return `${entry.path}: a hard link to ${entry.linkpath}, through the symbolic link ${via}`;
      if (!this.files.has(target)) return `${entry.path}: a hard link to ${entry.linkpath}, which is not a regular file earlier in the package`;
    }
    return undefined;
  }

  /** The first proper prefix of `path` that is a symbolic link of the archive. */
  private symlinkOnTheWay(path: string): string | undefined {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }
}

/** What checkTarFile found: the members refused (with why), how many members there were, or why it is no tar. */
export interface TarFileCheck {
  problems: string[];
  members: number;
  /** Set when the file is not a readable tar (gzipped or not). */
  unreadable?: string;
}

/** Runs TarMemberCheck over every member of the tar (gzipped or not) in `file`, unpacking nothing. */
export async function checkTarFile(file: string): Promise<TarFileCheck> {
  const check = new TarMemberCheck();
  const result: TarFileCheck = { problems: [], members: 0 };
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    result.members++;
    const problem = check.problem({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
    if (problem) result.problems.push(problem);
    entry.resume();
  });
  parser.on('error', (error: Error) => (result.unreadable ??= error.message));
  try {
    await pipeline(createReadStream(file), parser);
  } catch (error) {
    result.unreadable ??= (error as Error).message;
  }
  return result;
}

/** One sentence naming the first few problems of a check (for an error message). */
export function describeTarProblems(problems: readonly string[]): string {
  return `${problems.length} member(s) that cannot be unpacked safely: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; ...' : ''}`;
}
