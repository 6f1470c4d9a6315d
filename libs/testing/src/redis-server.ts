/** A throwaway redis-server for integration specs, behind a password as the platform's own Redis. */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, pollUntil, redisLogin, redisUrlOf, writeRedisAcl } from '@paas/local-services';

export interface RedisProcess {
  port: number;
  url: string;
  kill(): void;
  restart(): Promise<void>;
}

/**
 * Starts a throwaway redis-server on a free port, behind a password as the platform's own Redis
 * (default user off, the `paas` user with a password from `dir`); `url` carries the login, `kill`
 * stops it by pid.
 */
export async function startRedisServer(dir: string): Promise<RedisProcess> {
  const port = await freePort();
  const login = await redisLogin(dir);
  const acl = await writeRedisAcl(dir, login);
  const url = redisUrlOf('127.0.0.1', port, login);
  let child: ChildProcess | undefined;
  const spawnIt = async () => {
    child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--aclfile', acl], {
      stdio: 'ignore',
    });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await pollUntil('redis-server to answer PING', async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping()) === 'PONG' ? true : undefined;
      }, { timeoutMs: 5_000 });
    } finally {
      probe.disconnect();
    }
  };
  await spawnIt();
  const kill = () => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  };
  return {
    port,
    url,
    kill,
    restart: spawnIt,
  };
}
