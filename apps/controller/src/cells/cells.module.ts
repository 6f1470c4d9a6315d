import { Module } from '@nestjs/common';
import { CellsController } from './cells.controller';
import { CellsRepository } from './cells.repository';
import { CellsService } from './cells.service';

/** Read-only view of the cells, their capacity and what runs on them. */
@Module({ controllers: [CellsController], providers: [CellsRepository, CellsService] })
export class CellsModule {}
