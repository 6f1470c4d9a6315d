import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appNameSchema } from '@paas/contracts';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import { TokenService } from '../../auth/token.service';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { DomainException, httpStatusOf } from '../../platform/common/domain.exception';
import { GitRepositoriesService } from '../../storage/git-repositories.service';
import { serveGitHttpBackend } from './git-http-backend';
import { checkGitPath, gitServiceProblem } from './git-path';
import { OwnTextChecks } from '../../platform/common/request-text.interceptor';

/**
 * Git smart HTTP at /git/<app>.git/..., token as the basic-auth password (any user name).
 * Errors are text/plain, which git prints to the pushing user as `remote:` lines.
 */
@Controller('git')
@OwnTextChecks()
export class GitController {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly tokens: TokenService,
    private readonly apps: AppsRepository,
    private readonly appsService: AppsService,
    private readonly repos: GitRepositoriesService,
  ) {}

  @All('*path')
  async serve(@Req() req: Request, @Res() res: Response): Promise<void> {
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      res.status(status).set({ 'content-type': 'text/plain; charset=utf-8', ...headers }).send(message + '\n');
    };
    const auth = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const [user, token] = auth ? Buffer.from(auth[1], 'base64').toString().split(/:(.*)/s) : ['', ''];
    const actor = auth ? await this.tokens.actorOf(token ?? '') : undefined;
    if (!actor) {
      return fail(401, 'authentication required: use your API token as the password (any user name)', {
        'www-authenticate': 'Basic realm="paas"',
      });
    }
    const match = /^\/git\/([^/]+)\.git(\/.*)$/.exec(req.path);
    if (!match) return fail(404, 'not a git URL: use http://<controller>/git/<app>.git');
    const [, name, rawRest] = match;
    // The path and the query are checked before anything reaches git: no "..", no NUL, only git's own paths.
    const checked = checkGitPath(rawRest);
    if (!checked.ok) return fail(checked.status, checked.message);
    const serviceProblem = gitServiceProblem(req.query.service);
    if (serviceProblem) return fail(400, serviceProblem);
    const rest = checked.path;
    if (!appNameSchema.safeParse(name).success || !(await this.apps.findByName(name))) {
      return fail(404, `no app named ${name}: create it first with POST /v1/apps {"name": "${name}"}`);
    }
    // Pushing needs the developer role in the app's space; fetching needs any role.
    const pushing = rest.includes('git-receive-pack') || String(req.query.service ?? '') === 'git-receive-pack';
    try {
      await this.appsService.resolve(actor, name, pushing ? 'write' : 'read');
    } catch (error) {
      if (error instanceof DomainException) {
        return fail(httpStatusOf(error.code) === 404 ? 404 : 403, error.code === 'not-found' ? `no app named ${name}: create it first with POST /v1/apps {"name": "${name}"}` : error.message);
      }
      throw error;
    }
    await this.repos.create(name);
    serveGitHttpBackend(req, res, {
      projectRoot: this.repos.reposDir,
      pathInfo: `/${name}.git${rest}`,
      remoteUser: user || 'paas',
      extraEnv: {
        PAAS_APP_NAME: name,
        PAAS_CONTROLLER_URL: this.config.url,
        PAAS_INTERNAL_TOKEN: this.config.internalToken,
        PAAS_ACTOR: Buffer.from(JSON.stringify(actor)).toString('base64'),
      },
    });
  }
}
