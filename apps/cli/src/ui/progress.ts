import { formatBytes } from './format';

/** Where spinners and progress bars draw: a stream that may be a terminal (stderr, so stdout stays clean for pipes). */
export interface StatusStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A spinner with a message while something slow runs, on a terminal only; elsewhere it stays
 * silent (the final line of `stop` is still written). `stop` may be called more than once.
 */
export class Spinner {
  private timer?: NodeJS.Timeout;
  private frame = 0;

  constructor(
    private readonly out: StatusStream,
    private text: string,
  ) {
    if (out.isTTY) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 80);
      this.timer.unref();
    }
  }

  update(text: string): void {
    this.text = text;
    if (this.timer) this.draw();
  }

  private draw(): void {
    const width = (this.out.columns ?? 80) - 3;
    this.out.write(`\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text.slice(0, Math.max(10, width))}`);
  }

  /** Clears the spinner; writes `finalLine` (if any) as a line of its own. */
  stop(finalLine?: string): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.out.write('\r\x1b[2K');
    }
    if (finalLine !== undefined) this.out.write(finalLine + '\n');
  }
}

/** "LABEL [#####-----]  45%  4.5M/10.0M": a bar of `width` characters for done/total. Pure. */
export function progressLine(label: string, done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${formatBytes(done)}/${formatBytes(total)}`;
}

/**
 * A progress bar for an upload, redrawn at most every 50 ms on a terminal; elsewhere one line
 * when it starts and one when it ends.
 */
export class ProgressBar {
  private last = 0;
  private done = 0;

  constructor(
    private readonly out: StatusStream,
    private readonly label: string,
    private readonly total: number,
  ) {
    if (!out.isTTY) out.write(`${label}: ${formatBytes(total)}\n`);
    else this.draw();
  }

  private barWidth(): number {
    return Math.max(10, Math.min(40, (this.out.columns ?? 80) - this.label.length - 30));
  }

  private draw(): void {
    this.out.write(`\r\x1b[2K${progressLine(this.label, this.done, this.total, this.barWidth())}`);
  }

  update(done: number): void {
    this.done = done;
    const now = Date.now();
    if (this.out.isTTY && (now - this.last >= 50 || done >= this.total)) {
      this.last = now;
      this.draw();
    }
  }

  finish(): void {
    if (this.out.isTTY) {
      this.done = this.total;
      this.draw();
      this.out.write('\n');
    }
  }
}
