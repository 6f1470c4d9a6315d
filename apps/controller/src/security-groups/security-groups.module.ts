import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { SecurityGroupsController } from './security-groups.controller';
import { SecurityGroupsRepository } from './security-groups.repository';
import { SecurityGroupsService } from './security-groups.service';

/** Application security groups (egress rules of spaces); the job builders (placement, staging, release phase) ask its rulesFor. */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [SecurityGroupsController],
  providers: [SecurityGroupsRepository, SecurityGroupsService],
  exports: [SecurityGroupsService],
})
export class SecurityGroupsModule {}
