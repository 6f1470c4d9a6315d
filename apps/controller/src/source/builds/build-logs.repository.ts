import { Injectable } from '@nestjs/common';
import type { Build, BuildLogLine } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/database/prisma.service';
import type { BuildLogLineRow, BuildLogSink } from './build-log';

/** Build log lines in Postgres (table build_log_lines), written by BuildLogWriter, read by the API. */
@Injectable()
export class BuildLogsRepository implements BuildLogSink {
  constructor(private readonly prisma: PrismaService) {}

  async append(buildId: string, lines: BuildLogLineRow[]): Promise<void> {
    // skipDuplicates: a retried batch never fails on lines already written.
    await this.prisma.buildLogLine.createMany({ data: lines.map((l) => ({ buildId, seq: l.seq, text: l.text })), skipDuplicates: true });
  }

  async dropBefore(buildId: string, seq: number, dropped: number): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.buildLogLine.deleteMany({ where: { buildId, seq: { lt: seq } } }),
      this.prisma.build.update({ where: { id: buildId }, data: { logDroppedLines: dropped } }),
    ]);
  }

  async close(buildId: string): Promise<void> {
    await this.prisma.build.update({ where: { id: buildId }, data: { logClosedAt: new Date() } });
  }

  /**
   * For a log whose writer is gone (its controller stopped): adds `text` as the last line and
   * marks the log complete. Safe to call twice (the same seq is written once; the close is kept).
   */
  async appendAndCloseOrphaned(buildId: string, text: string): Promise<void> {
    const last = await this.prisma.buildLogLine.aggregate({ where: { buildId }, _max: { seq: true } });
    await this.prisma.buildLogLine.createMany({ data: [{ buildId, seq: (last._max.seq ?? 0) + 1, text }], skipDuplicates: true });
    await this.closeOrphaned(buildId);
  }

  /** Marks the log of a build whose writer is gone complete, if it is not yet. */
  async closeOrphaned(buildId: string): Promise<void> {
    await this.prisma.build.updateMany({ where: { id: buildId, logClosedAt: null }, data: { logClosedAt: new Date() } });
  }

  /** The build, if it is one of this app's. */
  findBuild(appId: string, buildId: string): Promise<Build | null> {
    return this.prisma.build.findFirst({ where: { id: buildId, appId } });
  }

  /** The kept lines after `afterSeq`, oldest first. */
  lines(buildId: string, afterSeq: number): Promise<BuildLogLine[]> {
    return this.prisma.buildLogLine.findMany({ where: { buildId, seq: { gt: afterSeq } }, orderBy: { seq: 'asc' } });
  }
}
