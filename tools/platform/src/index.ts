export * from './platform';
export { portOpen, pollUntil, SupervisedProcess } from '@paas/local-services';
export { requestRouterRestart, serveRouterRestarts, controlSocketOf, type ControlLine, type ControlServer } from './router-restart-control';
export { ensureSecretKey, SECRET_KEY_FILE } from './secret-key';
