import { createHash } from 'node:crypto';
import { SERVICE_CONTAINER_PORT, type ServiceKind, type StartServiceJob } from '@paas/contracts';

/**
 * How a cell runs the server of each built-in offering from the host's packages (the stack's
 * read-only /usr is the host's), as the containers' vcap user with its data on the volume at
 * /data. The admin password reaches the server through a file on the volume only (never the env
 * or argv, which `ps` and the runtime's records show): the postgres pwfile initdb reads and the
 * init script deletes, the hash in redis's ACL file.
 */
export interface ServerDefinition {
  /** The server's binary on the host; a host without it cannot run the kind (state failed). */
  binary: string;
  /** What an operator installs when the binary is missing. */
  install: string;
  /** Files written into the fresh volume before anything runs there (path under /data → content), given to vcap, 0600. */
  seedFiles(job: StartServiceJob): Record<string, string>;
  /** Run once, to completion, in a container of its own after the seed (initdb); none: nothing to initialise. */
  initCommand?(job: StartServiceJob): string[];
  /** The server's argv: it listens on SERVICE_CONTAINER_PORT[kind] on every address of its container. */
  command(job: StartServiceJob): string[];
}

const PG_BIN = '/usr/lib/postgresql/15/bin';
const PWFILE = '/data/.admin-password';

/**
 * initdb with the admin as superuser and scram-sha-256 for every connection (pg_hba: from
 * anywhere, the cell's egress rules decide who gets there), over whatever a failed earlier
 * attempt left. The pwfile goes whether initdb succeeded or not.
 */
const POSTGRES_INIT = [
  `trap 'rm -f ${PWFILE}' EXIT`,
  'set -e',
  'rm -rf /data/pgdata',
  `${PG_BIN}/initdb -D /data/pgdata -U "$1" --pwfile=${PWFILE} --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8`,
  "printf '%s\\n' 'host all all 0.0.0.0/0 scram-sha-256' 'host all all ::/0 scram-sha-256' >> /data/pgdata/pg_hba.conf",
].join('\n');

/**
 * The postmaster's parent in its container (`sh -c` with the postmaster's argv): passes a stop's
 * SIGTERM on as SIGINT (fast shutdown: sessions are ended, the data flushed; postgres's own
 * SIGTERM waits until every client has gone, past the stop's grace), and exits with the
 * postmaster's status (a wait cut short by the trap is waited again while it runs).
 */
const POSTGRES_SUPERVISOR = [
  'trap \'kill -INT "$child"\' TERM',
  '"$@" & child=$!',
  'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || exit "$status"; done',
].join('\n');

export const SERVERS: Record<ServiceKind, ServerDefinition> = {
  postgresql: {
    binary: `${PG_BIN}/postgres`,
    install: 'install PostgreSQL 15 on the cell host (apt-get install postgresql-15)',
    seedFiles: (job) => ({ [PWFILE.slice('/data/'.length)]: `${job.adminPassword}\n` }),
    initCommand: (job) => ['/bin/sh', '-c', POSTGRES_INIT, 'initdb', job.adminUser],
    // Settings on the command line: ALTER SYSTEM (the admin is a superuser) cannot take them back.
    command: (job) => [
      '/bin/sh',
      '-c',
      POSTGRES_SUPERVISOR,
      'postgres',
      `${PG_BIN}/postgres`,
      '-D', '/data/pgdata',
      '-c', 'listen_addresses=*',
      '-c', `port=${SERVICE_CONTAINER_PORT.postgresql}`,
      '-c', 'unix_socket_directories=/tmp',
      '-c', `shared_buffers=${Math.max(16, Math.floor(job.memoryMb / 4))}MB`,
    ],
  },
  redis: {
    binary: '/usr/bin/redis-server',
    install: 'install Redis 7 on the cell host (apt-get install redis-server)',
    // The admin alone, by its password's hash; the default user off. The controller adds its
    // binding users with ACL SETUSER + ACL SAVE, which rewrites this file.
    seedFiles: (job) => ({
      'users.acl': `user default off\nuser ${job.adminUser} on #${createHash('sha256').update(job.adminPassword).digest('hex')} ~* &* +@all\n`,
    }),
    command: (job) => [
      '/usr/bin/redis-server',
      '--port', String(SERVICE_CONTAINER_PORT.redis),
      '--bind', '0.0.0.0',
      // Only the admin and the bindings' users may log in (the default user is off).
      '--protected-mode', 'no',
      '--dir', '/data',
      '--appendonly', 'yes',
      '--aclfile', '/data/users.acl',
      // Writes fail with an OOM error before the container's limit kills the server.
      '--maxmemory', `${Math.max(8, Math.floor(job.memoryMb * 0.75))}mb`,
      // A backup (the controller's redis-cli --rdb, a replica's SYNC) starts at once: the default
      // waits 5 s for more replicas to share the diskless transfer, and there are none.
      '--repl-diskless-sync-delay', '0',
      '--daemonize', 'no',
    ],
  },
};
