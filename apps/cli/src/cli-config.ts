import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  api: string;
  token: string;
}

export function configPath(): string {
  return process.env.PAAS_CONFIG ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'paas', 'config.json');
}

/** PAAS_API and PAAS_TOKEN override the saved login (for scripts and CI). */
export async function loadCliConfig(): Promise<CliConfig | undefined> {
  const saved = await readFile(configPath(), 'utf8')
    .then((t) => JSON.parse(t) as Partial<CliConfig>)
    .catch(() => ({}) as Partial<CliConfig>);
  const api = process.env.PAAS_API ?? saved.api;
  const token = process.env.PAAS_TOKEN ?? saved.token;
  return api && token ? { api, token } : undefined;
}

export async function saveCliConfig(config: CliConfig): Promise<string> {
  const file = configPath();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
