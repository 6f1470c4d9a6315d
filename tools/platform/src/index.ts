export * from './platform';
export { portOpen, pollUntil, SupervisedProcess } from '@paas/local-services';
export * from './isolated-platform';
export * from './git-client';
export * from './simulated-hosts';
export * from './testing/sample-apps';
export { sweepAbandonedPlatforms } from './abandoned-platforms';
export { requestRouterRestart, serveRouterRestarts, controlSocketOf, type ControlLine, type ControlServer } from './router-restart-control';
