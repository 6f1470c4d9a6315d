import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuditRepository } from './audit.repository';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** The audit log: EventsService records who changed what (for every module), GET /v1/events reads it. */
@Module({
  imports: [AuthModule],
  controllers: [EventsController],
  providers: [AuditRepository, EventsService],
  exports: [EventsService],
})
export class AuditModule {}
