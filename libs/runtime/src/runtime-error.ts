/** Why a runtime operation failed; the cell maps these codes to instance/staging failures. */
export enum RuntimeErrorCode {
  CommandFailed = 'command-failed',
  InvalidSpec = 'invalid-spec',
  InvalidConfig = 'invalid-config',
  NoFreeAddress = 'no-free-address',
  NoFreePort = 'no-free-port',
  AlreadyExists = 'already-exists',
  PortInUse = 'port-in-use',
}

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** An external command exited non-zero; the message names the command and its stderr. */
export class CommandFailedError extends RuntimeError {
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(
      RuntimeErrorCode.CommandFailed,
      `${file} ${args.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || '(no stderr)'}`,
    );
    this.name = 'CommandFailedError';
  }
}
