export * from './app-name';
export * from './errors';
export * from './cell';
export * from './instance';
export * from './jobs';
export * from './routes';
export * from './redis-keys';
export * from './env';
