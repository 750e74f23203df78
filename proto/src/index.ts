export * from './boundedService.js';
export * from './chunks.js';
export * from './decode.js';
export * from './gen/kuberelay/relay/v1/relay.js';
export * from './paths.js';
export * from './policy.js';
