export * from './chunks.js';
export * from './gen/kuberelay/relay/v1/relay.js';
export * from './paths.js';
