import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { describeTarProblems, TarMemberCheck } from '@paas/tenant-files';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';

/** The largest source package a push may upload (a git push has no such limit: git packs it). */
export const SOURCE_PACKAGE_MAX_BYTES = 1024 * 1024 * 1024;

export interface SpooledPackage {
  /** A temporary file holding the upload; remove it with `dispose`. */
  file: string;
  sha256: string;
  size: number;
  files: number;
  dispose(): Promise<void>;
}

/**
 * Reads an uploaded source package (a tar, gzipped or not) into a temporary file, checking it on
 * the way: at most SOURCE_PACKAGE_MAX_BYTES, a readable tar, and no member that could unpack
 * outside the app directory or reach a host file (see TarMemberCheck: no absolute or `..` paths,
 * devices, FIFOs, members below a symbolic link, hard links but to an earlier regular file).
 * Throws a 422 DomainException that says what to fix.
 */
export async function spoolSourcePackage(body: Readable, maxBytes = SOURCE_PACKAGE_MAX_BYTES): Promise<SpooledPackage> {
  const dir = await mkdtemp(join(tmpdir(), 'paas-source-'));
  const file = join(dir, 'package');
  const dispose = () => rm(dir, { recursive: true, force: true });
  const hash = createHash('sha256');
  const members = new TarMemberCheck();
  const problems: string[] = [];
  let size = 0;
  let files = 0;
  let notTar: string | undefined;
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    const problem = members.problem({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
    if (problem) problems.push(problem);
    if (entry.type !== 'Directory') files++;
    entry.resume();
  });
  parser.on('error', (error: Error) => (notTar ??= error.message));
  const parsed = new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.on('close', resolve);
    parser.on('error', resolve);
  });
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new DomainException(ErrorCode.Unprocessable, `the source package is larger than ${Math.round(maxBytes / 1024 / 1024)} MB: list what the app does not need (dependencies, build output) in .cfignore, or push with git`));
        return;
      }
      hash.update(chunk);
      if (notTar === undefined) parser.write(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (notTar === undefined) parser.end();
      done();
    },
  });
  try {
    await pipeline(body, check, createWriteStream(file));
    await parsed;
  } catch (error) {
    await dispose();
    if (error instanceof DomainException) throw error;
    throw new DomainException(ErrorCode.Unprocessable, `the upload of the source package broke off: ${(error as Error).message}; push again`);
  }
  const refuse = (message: string) => {
    void dispose();
    return new DomainException(ErrorCode.Unprocessable, message);
  };
  if (size === 0) throw refuse('the source package is empty: send the app directory as a tar (gzipped or not), as `paas push` does');
  if (notTar !== undefined) throw refuse(`the source package is not a readable tar (${notTar}): send the app directory as a tar, gzipped or not, as \`paas push\` does`);
  if (problems.length > 0) {
    throw refuse(`the source package has ${describeTarProblems(problems)}. Pack the app directory itself, with paths relative to it, without devices, FIFOs or hard links to files outside it`);
  }
  return { file, sha256: hash.digest('hex'), size, files, dispose };
}
