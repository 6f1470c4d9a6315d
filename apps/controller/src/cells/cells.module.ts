import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { CellDrainService } from './cell-drain.service';
import { CellsController } from './cells.controller';
import { CellsRepository } from './cells.repository';
import { CellsService } from './cells.service';

/** The cells: the live ones, their capacity and what runs on them (GET /v1/cells), and an operator's drain. */
@Module({ imports: [AuthModule, AuditModule], controllers: [CellsController], providers: [CellsRepository, CellsService, CellDrainService] })
export class CellsModule {}
