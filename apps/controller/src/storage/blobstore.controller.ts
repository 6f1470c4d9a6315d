import { Controller, Get, HttpCode, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InternalGuard } from '../auth/token.guard';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { BLOB_KINDS, BlobstoreService, type BlobKind } from './blobstore.service';

function kindOf(kind: string): BlobKind {
  if (!(BLOB_KINDS as readonly string[]).includes(kind)) {
    throw new DomainException(ErrorCode.NotFound, `unknown blob kind ${kind}: use one of ${BLOB_KINDS.join(', ')}`);
  }
  return kind as BlobKind;
}

/** Internal: cells download source packages and droplets and upload droplets here. */
@Controller('internal/v1/blobs')
@UseGuards(InternalGuard)
export class BlobstoreController {
  constructor(private readonly blobs: BlobstoreService) {}

  @Get(':kind/:id')
  async download(@Param('kind') kind: string, @Param('id') id: string, @Res() res: Response): Promise<void> {
    const blob = await this.blobs.open(kindOf(kind), id);
    if (!blob) throw new DomainException(ErrorCode.NotFound, `no ${kind} blob ${id}`);
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(blob.size));
    blob.stream.pipe(res);
  }

  @Put(':kind/:id')
  @HttpCode(201)
  async upload(@Param('kind') kind: string, @Param('id') id: string, @Req() req: Request): Promise<{ size: number }> {
    return { size: await this.blobs.put(kindOf(kind), id, req) };
  }
}
