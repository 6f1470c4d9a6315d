import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colours only on a terminal: never when the stream is not a TTY, when NO_COLOR is set (to
 * anything but ""), or TERM is "dumb"; FORCE_COLOR (not "0") turns them on anyway. Pure.
 */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

/** The width tables fit in: the terminal's columns on a TTY (or $COLUMNS), else unlimited (a pipe gets whole lines). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  if (stream.isTTY && stream.columns) return stream.columns;
  return Infinity;
}

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}
