import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { startServiceJobSchema, type StartServiceJob } from '@paas/contracts';

const recordSchema = z.object({
  job: startServiceJobSchema,
  /** Its host port, from CELL_SERVICE_PORTS, allocated once: apps and the controller were given it. */
  hostPort: z.number().int().positive(),
  /** The server's data was initialised (initdb ran, the ACL file was written): later starts only run it. */
  initialized: z.boolean(),
  createdAt: z.string(),
});

/** One service instance this cell runs, as its registry keeps it. */
export type ServiceRecord = z.infer<typeof recordSchema>;

/**
 * The cell's own list of the service instances it runs: the truth on the cell (a lost Redis job
 * changes nothing), read at every agent start. One JSON file per instance (`<id>.json`, 0600,
 * in a 0700 directory: each holds the admin password), written atomically (temp file, rename).
 * Writes are serialised, so two starts at once never take one port.
 */
export class ServiceRegistry {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    /** CELL_SERVICE_PORTS. */
    private readonly portRange: [number, number],
  ) {}

  /**
   * The record of `job`'s instance: the existing one (unchanged: the same job again, or one
   * queued anew after Redis lost it, changes nothing), or a new one with the lowest host port of
   * the range no other record holds. Throws when the range is used up.
   */
  add(job: StartServiceJob): Promise<ServiceRecord> {
    return this.serial(async () => {
      const existing = await this.get(job.serviceInstanceId);
      if (existing) return existing;
      const used = new Set((await this.list()).map((r) => r.hostPort));
      const [low, high] = this.portRange;
      let hostPort = low;
      while (hostPort <= high && used.has(hostPort)) hostPort++;
      if (hostPort > high) {
        throw new Error(`no free service port: all ${high - low + 1} of CELL_SERVICE_PORTS ${low}-${high} are taken (delete a service instance or widen the range)`);
      }
      const record: ServiceRecord = { job, hostPort, initialized: false, createdAt: new Date().toISOString() };
      await this.write(record);
      return record;
    });
  }

  /** Records that the instance's server data was initialised. */
  markInitialized(serviceInstanceId: string): Promise<void> {
    return this.serial(async () => {
      const record = await this.get(serviceInstanceId);
      if (record && !record.initialized) await this.write({ ...record, initialized: true });
    });
  }

  /**
   * Records the sizes an update-service gave the instance (its job's memoryMb and diskMb; a later
   * start job carrying the old ones changes nothing, as `add` keeps the record). Returns the new
   * record; throws when there is none.
   */
  resize(serviceInstanceId: string, sizes: { memoryMb: number; diskMb: number }): Promise<ServiceRecord> {
    return this.serial(async () => {
      const record = await this.get(serviceInstanceId);
      if (!record) throw new Error(`service instance ${serviceInstanceId} is not registered on this cell`);
      const resized: ServiceRecord = { ...record, job: { ...record.job, memoryMb: sizes.memoryMb, diskMb: sizes.diskMb } };
      await this.write(resized);
      return resized;
    });
  }

  /** Drops the instance's record; safe for an unknown one. */
  remove(serviceInstanceId: string): Promise<void> {
    return this.serial(() => rm(this.file(serviceInstanceId), { force: true }));
  }

  /** The record of one instance; undefined when there is none (or it does not parse). */
  async get(serviceInstanceId: string): Promise<ServiceRecord | undefined> {
    const text = await readFile(this.file(serviceInstanceId), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parse(text);
  }

  /** Every record (files that do not parse are skipped), ordered by host port. */
  async list(): Promise<ServiceRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records: ServiceRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const record = parse(await readFile(join(this.dir, name), 'utf8').catch(() => ''));
      if (record) records.push(record);
    }
    return records.sort((a, b) => a.hostPort - b.hostPort);
  }

  private file(serviceInstanceId: string): string {
    // The id passed the job schema ([a-f0-9-]); checked again, as it names a file.
    if (!/^[a-f0-9-]{8,36}$/.test(serviceInstanceId)) throw new Error(`"${serviceInstanceId}" is not a service instance id`);
    return join(this.dir, `${serviceInstanceId}.json`);
  }

  private async write(record: ServiceRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const file = this.file(record.job.serviceInstanceId);
    await writeFile(`${file}.tmp`, JSON.stringify(record, null, 2), { mode: 0o600 });
    await chmod(`${file}.tmp`, 0o600);
    await rename(`${file}.tmp`, file);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function parse(text: string): ServiceRecord | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
