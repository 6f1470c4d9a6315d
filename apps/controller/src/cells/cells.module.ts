import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CellsController } from './cells.controller';
import { CellsRepository } from './cells.repository';
import { CellsService } from './cells.service';

/** Read-only view of the cells, their capacity and what runs on them. */
@Module({ imports: [AuthModule], controllers: [CellsController], providers: [CellsRepository, CellsService] })
export class CellsModule {}
