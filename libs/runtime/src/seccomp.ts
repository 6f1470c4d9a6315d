import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/**
 * The seccomp filter of every container: the allow-list in `libs/runtime/seccomp/default.json`
 * (Docker's default profile for a container without capabilities, plus the platform's own
 * denials; its `comment` says where it comes from). Anything not allowed fails with EPERM.
 */
export const SECCOMP_PROFILE_FILE = join(__dirname, '..', 'seccomp', 'default.json');

/** One rule as the OCI runtime spec (and runc) take it. */
export interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo: number; op: string }>;
}

/** `linux.seccomp` of config.json. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

/** The profile file: OCI rules, plus the Node.js architecture a rule is limited to (`arches`). */
interface ProfileFile {
  defaultAction: string;
  defaultErrnoRet: number;
  architectures: Record<string, string[]>;
  /** Syscalls that no rule may allow (checked at load). */
  denied: string[];
  syscalls: Array<SeccompRule & { comment?: string; arches?: string[] }>;
}

/** Reads and checks a profile file; a broken or too permissive file fails the boot, not a container. */
export function loadSeccompProfile(file: string = SECCOMP_PROFILE_FILE, arch: string = process.arch): SeccompProfile {
  const fail = (why: string): never => {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `seccomp profile ${file}: ${why}`);
  };
  let parsed: ProfileFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as ProfileFile;
  } catch (error) {
    return fail(`cannot be read as JSON (${(error as Error).message})`);
  }
  if (parsed.defaultAction !== 'SCMP_ACT_ERRNO') fail('defaultAction must be SCMP_ACT_ERRNO (an allow-list)');
  if (!Array.isArray(parsed.denied) || !Array.isArray(parsed.syscalls)) fail('needs the arrays "denied" and "syscalls"');
  const architectures = parsed.architectures?.[arch];
  if (!architectures) fail(`names no architectures for ${arch}`);
  const denied = new Set(parsed.denied);
  const syscalls: SeccompRule[] = [];
  for (const { comment: _comment, arches, ...rule } of parsed.syscalls) {
    if (arches && !arches.includes(arch)) continue;
    if (rule.action === 'SCMP_ACT_ALLOW') {
      const allowedDenied = rule.names.filter((name) => denied.has(name));
      if (allowedDenied.length > 0) fail(`allows ${allowedDenied.join(', ')}, which the platform denies`);
    }
    syscalls.push(rule);
  }
  return { defaultAction: parsed.defaultAction, defaultErrnoRet: parsed.defaultErrnoRet, architectures: architectures!, syscalls };
}

let cached: SeccompProfile | undefined;

/** The shipped profile, read once. */
export function defaultSeccompProfile(): SeccompProfile {
  cached ??= loadSeccompProfile();
  return cached;
}
