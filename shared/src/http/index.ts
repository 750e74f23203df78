export * from './probeServer.js';
