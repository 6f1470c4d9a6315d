import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  api: string;
  token: string;
}

/** An org or a space as the config file keeps it: its id (what the API takes) and its name (what people read). */
export interface Named {
  id: string;
  name: string;
}

/** The targeted org and space: the defaults of `create` and the filter of `apps`. */
export interface Target {
  org?: Named;
  space?: Named;
}

/** Everything the config file holds. */
export interface SavedConfig {
  api?: string;
  token?: string;
  target?: Target;
}

/** A config file that cannot be read: the message says which file and what to do. */
export class ConfigError extends Error {}

/** `$PAAS_CONFIG`, else `$XDG_CONFIG_HOME/paas/config.json`, else `~/.config/paas/config.json`. */
export function configPath(): string {
  return process.env.PAAS_CONFIG || join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'paas', 'config.json');
}

/** The saved config; {} when there is none yet. */
export async function readSavedConfig(): Promise<SavedConfig> {
  const file = configPath();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as SavedConfig;
  } catch {
    // reported below
  }
  throw new ConfigError(`the config file ${file} is not a JSON object: fix it, or delete it and run paas login again`);
}

/** Writes the whole config atomically, readable by its owner only (0600, in a 0700 directory). */
export async function writeSavedConfig(config: SavedConfig): Promise<string> {
  const file = configPath();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return file;
}

/** The API URL and token to use: PAAS_API and PAAS_TOKEN override the saved login (for scripts and CI). */
export async function loadCliConfig(): Promise<CliConfig | undefined> {
  const saved = process.env.PAAS_API && process.env.PAAS_TOKEN ? {} : await readSavedConfig();
  const api = process.env.PAAS_API || saved.api;
  const token = process.env.PAAS_TOKEN || saved.token;
  return api && token ? { api, token } : undefined;
}

/** Saves a login, keeping the target when the API stays the same (another API: its ids mean nothing there). */
export async function saveCliConfig(config: CliConfig): Promise<string> {
  const saved = await readSavedConfig().catch(() => ({}) as SavedConfig);
  const target = saved.api === config.api ? saved.target : undefined;
  return writeSavedConfig({ api: config.api, token: config.token, ...(target ? { target } : {}) });
}
