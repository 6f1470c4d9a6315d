import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSecretKey } from '@paas/redis';

/** The platform secret key's file in a data directory (PAAS_SECRET_KEY_FILE of the controller and the routers). */
export const SECRET_KEY_FILE = 'secret-key';

/**
 * `<dataDir>/secret-key`, the key that seals private keys at rest (docs/https.md): 32 random
 * bytes in base64 written with mode 0600 at first start, created exclusively so that two starts
 * never keep different ones; later starts keep it (tightened to 0600). A file that is not a key
 * (parseSecretKey) throws naming the file: it is never replaced, since every sealed key would be
 * lost with it. Returns the file's path. Safe to call on every start.
 */
export async function ensureSecretKey(dataDir: string): Promise<string> {
  const file = join(dataDir, SECRET_KEY_FILE);
  const existing = (await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error))))?.trim();
  if (existing === undefined || existing === '') {
    // An empty file left by an interrupted write is replaced; otherwise the first writer wins.
    await writeFile(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: existing === '' ? 'w' : 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  try {
    parseSecretKey(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}; it seals the certificates' private keys, so restore it from a backup (deleting it makes every sealed key unreadable)`);
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return file;
}

/**
 * `<dataDir>/ca` (PAAS_LOCAL_CA_DIR of the controller), 0711: the controller makes ca.pem (public)
 * and ca-key.pem (0600) there at first boot; others may read ca.pem by its path, never list the
 * directory. Returns its path. Safe to call on every start.
 */
export async function ensureCaDir(dataDir: string): Promise<string> {
  const caDir = join(dataDir, 'ca');
  await mkdir(caDir, { recursive: true, mode: 0o711 });
  await chmod(caDir, 0o711);
  return caDir;
}
