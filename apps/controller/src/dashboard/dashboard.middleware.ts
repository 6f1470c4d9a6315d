import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { REVALIDATE, cacheControlFor, fileFor, isReservedPath, wantsAppShell } from './static-files';

export const DASHBOARD_OPTIONS = Symbol('DASHBOARD_OPTIONS');

export interface DashboardOptions {
  /** The dashboard's production build (apps/dashboard/dist): index.html and assets/. */
  dir: string;
  /** Origins (scheme://host[:port]) of dashboards served elsewhere that may call /v1 from a browser. */
  corsOrigins: string[];
}

/**
 * The dashboard's page: scripts and styles from this origin only; the API may be another origin
 * (`?api=`), so any connect-src. React sets styles through the DOM, which style-src allows.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Serves the dashboard's build at `/`: files as they are (hashed assets cached for a year,
 * the rest revalidated), index.html for the dashboard's own paths (`/apps/NAME` on reload), and
 * never anything under the API's prefixes (/v1, /git, /internal, /metrics, /health). Also answers
 * CORS for /v1 to the configured origins. Everything else goes on to the API (its 404).
 */
@Injectable()
export class DashboardMiddleware implements NestMiddleware {
  constructor(@Inject(DASHBOARD_OPTIONS) private readonly options: DashboardOptions) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      return next();
    }
    if (path === '/v1' || path.startsWith('/v1/')) return this.cors(req, res, next);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isReservedPath(path)) return next();

    const file = path === '/' ? undefined : fileFor(this.options.dir, path);
    if (file && (await isFile(file))) return this.send(res, next, file, cacheControlFor(path));
    if (!wantsAppShell(path, req.headers.accept)) return next();
    const index = join(this.options.dir, 'index.html');
    if (await isFile(index)) return this.send(res, next, index, REVALIDATE, true);
    if (path !== '/') return next();
    res
      .status(404)
      .type('text/plain')
      .send(`The dashboard is not built (no ${index}): run "bash tools/bootstrap.sh", or "npx vite build" in apps/dashboard. The API is at /v1 (reference: /v1/docs).\n`);
  }

  private send(res: Response, next: NextFunction, file: string, cacheControl: string, page = false): void {
    const headers: Record<string, string> = { 'Cache-Control': cacheControl, 'X-Content-Type-Options': 'nosniff' };
    if (page) Object.assign(headers, { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'same-origin' });
    res.sendFile(file, { headers, cacheControl: false, dotfiles: 'deny' }, (error) => {
      if (error && !res.headersSent) next();
    });
  }

  /** A browser on an allowed origin may call the API: answer its preflight, and mark the answer readable. */
  private cors(req: Request, res: Response, next: NextFunction): void {
    const origin = req.headers.origin;
    if (!origin || !this.options.corsOrigins.includes(origin)) return next();
    res.vary('Origin');
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', 'X-Paas-Log-Complete, X-Paas-Log-Last-Seq');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  }
}
