import { Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository';
import { EventsController } from './events.controller';

/** The audit log API (GET /v1/events); events are written by EventsService (EventsModule). */
@Module({ controllers: [EventsController], providers: [AuditRepository] })
export class AuditModule {}
