export * from './read-tenant-file';
export * from './tar-members';
export * from './crafted-tar';
