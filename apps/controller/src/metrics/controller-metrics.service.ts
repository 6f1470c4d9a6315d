import { Injectable } from '@nestjs/common';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LeaderElectionService } from '../convergence/leader-election.service';
import { MetricsRepository } from './metrics.repository';

const APP_STATES = ['STARTED', 'STOPPED'];
const DEPLOYMENT_STATES = ['DEPLOYING', 'DEPLOYED', 'FAILED', 'CANCELED'];
const BUILD_STATES = ['STAGING', 'STAGED', 'FAILED'];

/**
 * The controller's Prometheus metrics, in a registry of its own (test harnesses run several
 * replicas in one process): HTTP requests by method, route template and status with their
 * duration, apps, deployments and builds by state (grouped counts from Postgres at scrape time),
 * live cells, whether this replica leads convergence, and Node's default process metrics.
 * No series carries an app name, a user or a token.
 */
@Injectable()
export class ControllerMetricsService {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: 'paas_controller_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route template (e.g. /v1/apps/:app) and status code, with their duration',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [this.registry],
  });

  constructor(repository: MetricsRepository, leader: LeaderElectionService) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const byState = (name: string, help: string, states: string[], read: () => Promise<Map<string, number>>) =>
      new Gauge({
        name,
        help,
        labelNames: ['state'] as const,
        registers,
        async collect() {
          const counts = await read();
          for (const state of new Set([...states, ...counts.keys()])) this.set({ state }, counts.get(state) ?? 0);
        },
      });
    byState('paas_controller_apps', 'Apps, by desired state', APP_STATES, () => repository.appsByState());
    byState('paas_controller_deployments', 'Deployments ever made, by state (DEPLOYING: rolling out now)', DEPLOYMENT_STATES, () =>
      repository.deploymentsByState(),
    );
    byState('paas_controller_builds', 'Builds ever made, by state (STAGING: staging now)', BUILD_STATES, () => repository.buildsByState());
    new Gauge({
      name: 'paas_controller_cells',
      help: 'Cells whose presence is live, by state (live, draining)',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const cells = await repository.liveCells();
        this.set({ state: 'live' }, cells.filter((c) => c.state !== 'draining').length);
        this.set({ state: 'draining' }, cells.filter((c) => c.state === 'draining').length);
      },
    });
    new Gauge({
      name: 'paas_controller_convergence_leader',
      help: '1 when this replica holds the convergence lease',
      registers,
      collect() {
        this.set(leader.isLeader ? 1 : 0);
      },
    });
  }

  /** One HTTP request was answered. */
  requestDone(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status_code: String(status) }, seconds);
  }
}
