export * from './connection';
export * from './cell-registry';
export * from './route-registry';
export * from './instance-store';
