export * from './services';
export * from './process-supervisor';
export * from './wait';
export * from './poll-until';
export * from './data-dir-secrets';
export * from './tcp-migrate-req';
export * from './request-loop';
export * from './pid';
