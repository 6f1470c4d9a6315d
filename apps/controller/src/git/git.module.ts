import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { GitRepositoriesModule } from './git-repositories.module';
import { GitController } from './git.controller';

@Module({ imports: [AppsModule, GitRepositoriesModule], controllers: [GitController] })
export class GitModule {}
