import { Module } from '@nestjs/common';
import { GitRepositoriesService } from './git-repositories.service';

@Module({ providers: [GitRepositoriesService], exports: [GitRepositoriesService] })
export class GitRepositoriesModule {}
