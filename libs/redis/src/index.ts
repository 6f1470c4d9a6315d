export * from './connection';
export * from './cell-registry';
export * from './route-registry';
export * from './instance-store';
export * from './app-log-limiter';
export * from './app-logs';
export * from './redis-access';
