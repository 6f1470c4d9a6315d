import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuthModule } from '../auth/auth.module';
import { StorageModule } from '../storage/storage.module';
import { GitController } from './git.controller';

@Module({ imports: [AuthModule, AppsModule, StorageModule], controllers: [GitController] })
export class GitModule {}
