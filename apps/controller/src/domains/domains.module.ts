import { Module } from '@nestjs/common';
import { DomainsController } from './domains.controller';
import { DomainsRepository } from './domains.repository';
import { DomainsService } from './domains.service';

/** Shared and private domains. */
@Module({ controllers: [DomainsController], providers: [DomainsRepository, DomainsService], exports: [DomainsService] })
export class DomainsModule {}
