export * from './services';
export * from './process-supervisor';
export * from './wait';
