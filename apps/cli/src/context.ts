import { createInterface } from 'node:readline';
import { ApiClient } from '@paas/api-client';
import type { DeploymentView, InstanceView } from '@paas/contracts';
import { loadCliConfig, readSavedConfig, type CliConfig, type Target } from './cli-config';
import { ProgressBar, Spinner } from './ui/progress';
import { renderTable, type Cell, type Column } from './ui/table';
import { colorEnabled, colors, terminalWidth, type Colors } from './ui/terminal';

/** A failure the user can act on: printed as `error: MESSAGE`, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A command given wrong arguments: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

export const EXAMPLE_API = 'http://127.0.0.1:4000';

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
type In = NodeJS.ReadableStream & { isTTY?: boolean };

export interface Streams {
  stdout: Out;
  stderr: Out;
  stdin: In;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What every command works with: the API client (from the saved login or PAAS_API/PAAS_TOKEN),
 * the target, and the terminal: results on stdout (tables sized to it, JSON for --json), spinners,
 * progress and notes on stderr, colours only where the stream is a terminal (and NO_COLOR unset).
 */
export class Context {
  readonly color: Colors;
  readonly errColor: Colors;
  private client?: ApiClient;

  constructor(
    readonly io: Streams = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.color = colors(colorEnabled(!!io.stdout.isTTY, env));
    this.errColor = colors(colorEnabled(!!io.stderr.isTTY, env));
  }

  /** The login in force; a CliError saying how to log in when there is none. */
  async login(): Promise<CliConfig> {
    const config = await loadCliConfig();
    if (config) return config;
    const saved = await readSavedConfig().catch(() => ({ api: undefined }));
    throw new CliError(`not logged in: run paas login --api ${this.env.PAAS_API || saved.api || EXAMPLE_API} --token TOKEN (or set PAAS_API and PAAS_TOKEN)`);
  }

  async api(): Promise<ApiClient> {
    if (!this.client) {
      const config = await this.login();
      this.client = new ApiClient(config.api, config.token);
    }
    return this.client;
  }

  /** The saved target, when it belongs to the API in force (PAAS_API may point elsewhere). */
  async target(): Promise<Target | undefined> {
    const saved = await readSavedConfig();
    const api = this.env.PAAS_API || saved.api;
    return saved.target && saved.api === api ? saved.target : undefined;
  }

  get width(): number {
    return terminalWidth(this.io.stdout, this.env);
  }

  /** A line (or lines) of results on stdout. */
  print(text = ''): void {
    this.io.stdout.write(text + '\n');
  }

  /** The API's JSON, as it sent it, for scripts. */
  json(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** A note for the person at the terminal (hints, progress): stderr, so pipes get only results. */
  note(text: string): void {
    this.io.stderr.write(text + '\n');
  }

  table(columns: Column[], rows: Array<Array<string | Cell>>): void {
    for (const line of renderTable(columns, rows, this.width, (t) => this.color.bold(t))) this.print(line);
  }

  /** Label/value lines ("state:   STARTED"), labels padded to one width. */
  fields(pairs: Array<[string, string]>): void {
    const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
    for (const [k, v] of pairs) this.print(`${this.color.bold((k + ':').padEnd(width))}${v}`);
  }

  spinner(text: string): Spinner {
    return new Spinner(this.io.stderr, text);
  }

  progress(label: string, total: number): ProgressBar {
    return new ProgressBar(this.io.stderr, label, total);
  }

  /** Asks a yes/no question on the terminal; undefined when stdin or stderr is not a terminal (nobody to ask). */
  async confirm(question: string): Promise<boolean | undefined> {
    if (!this.io.stdin.isTTY || !this.io.stderr.isTTY) return undefined;
    const rl = createInterface({ input: this.io.stdin, output: this.io.stderr });
    try {
      const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }

  /** The first line of stdin (a token piped in by a script). */
  async readLine(): Promise<string | undefined> {
    const rl = createInterface({ input: this.io.stdin });
    try {
      for await (const line of rl) return line.trim();
      return undefined;
    } finally {
      rl.close();
    }
  }

  /** Asks for a secret on the terminal without echoing it. */
  async askSecret(question: string): Promise<string> {
    const rl = createInterface({ input: this.io.stdin, output: this.io.stderr, terminal: true });
    const internal = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    internal._writeToOutput = (s: string) => {
      if (!asked) {
        this.io.stderr.write(s);
        asked = true;
      }
    };
    try {
      return (await new Promise<string>((resolve) => rl.question(question, resolve))).trim();
    } finally {
      rl.close();
      this.io.stderr.write('\n');
    }
  }

  /**
   * Waits for a deployment to end, with a spinner; a CliError when it failed or was canceled, or
   * when it is still running after `timeoutMs`.
   */
  async waitForDeployment(app: string, id: string, label: string, timeoutMs = 10 * 60_000): Promise<DeploymentView> {
    const api = await this.api();
    const spinner = this.spinner(`${label}: deploying`);
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const deployment = await api.deployment(app, id);
        if (deployment.state === 'DEPLOYED') {
          spinner.stop();
          return deployment;
        }
        if (deployment.state === 'FAILED') throw new CliError(`${label}: the deployment failed: ${deployment.reason ?? 'no reason given'}`);
        if (deployment.state === 'CANCELED') throw new CliError(`${label}: the deployment was canceled${deployment.reason ? `: ${deployment.reason}` : ''}`);
        if (Date.now() > deadline) {
          throw new CliError(`${label}: still deploying after ${Math.round(timeoutMs / 1000)} s: follow it with paas deployments ${app}`);
        }
        await sleep(500);
      }
    } finally {
      spinner.stop();
    }
  }

  /**
   * Waits until `done` holds for the app's instances (polled every half second), with a spinner
   * whose text `describe` gives; a CliError after `timeoutMs`.
   */
  async waitForInstances(app: string, label: string, done: (instances: InstanceView[]) => boolean, describe: (instances: InstanceView[]) => string, timeoutMs = 3 * 60_000): Promise<InstanceView[]> {
    const api = await this.api();
    const spinner = this.spinner(label);
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const { resources } = await api.instances(app);
        if (done(resources)) return resources;
        spinner.update(`${label}: ${describe(resources)}`);
        if (Date.now() > deadline) {
          throw new CliError(`${label}: not done after ${Math.round(timeoutMs / 1000)} s (${describe(resources)}): see paas app ${app} and paas events ${app}`);
        }
        await sleep(500);
      }
    } finally {
      spinner.stop();
    }
  }
}
