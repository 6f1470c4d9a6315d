import { Global, Module } from '@nestjs/common';
import { SecurityGroupsController } from './security-groups.controller';
import { SecurityGroupsRepository } from './security-groups.repository';
import { SecurityGroupsService } from './security-groups.service';

/** Application security groups (egress rules of spaces); global: the job builders (scheduler, staging, release phase) ask its rulesFor. */
@Global()
@Module({ controllers: [SecurityGroupsController], providers: [SecurityGroupsRepository, SecurityGroupsService], exports: [SecurityGroupsService] })
export class SecurityGroupsModule {}
