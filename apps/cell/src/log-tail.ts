/** Lines an app's output tail skips: blank ones, npm's notices, and stack frames ("    at f (file:1:2)"). */
const NOISE = /^(\s*$|npm notice|\s+at .+)/;
/** A tail line longer than this is cut: a reason travels in Redis records and git remote lines. */
const MAX_LINE = 300;

/**
 * The last `max` meaningful lines of a container's output, oldest first: what a failure report
 * shows (an instance that exited or never became healthy, a release command that failed). Pure.
 */
export function logTail(text: string, max = 10): string[] {
  return tailOf(text.split('\n'), max);
}

/** logTail over lines already split (e.g. kept while a task streams its output). Pure. */
export function tailOf(lines: readonly string[], max = 10): string[] {
  const kept: string[] = [];
  for (let i = lines.length - 1; i >= 0 && kept.length < max; i--) {
    const line = lines[i].replace(/\r$/, '');
    if (NOISE.test(line)) continue;
    kept.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
  }
  return kept.reverse();
}

/** Keeps the last `size` lines of a stream, for a report once it ends. */
export class LineRing {
  private readonly lines: string[] = [];

  constructor(private readonly size = 200) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  tail(max = 10): string[] {
    return tailOf(this.lines, max);
  }
}
