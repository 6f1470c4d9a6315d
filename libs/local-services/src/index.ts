export * from './services';
export * from './process-supervisor';
export * from './wait';
export * from './npm-registry-fixture';
export * from './data-dir-secrets';
export * from './tcp-migrate-req';
export * from './request-loop';
export * from './pid';
