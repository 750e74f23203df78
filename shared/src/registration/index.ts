export * from './bootstrapSecret.js';
export * from './bootstrapToken.js';
export * from './clusterStatus.js';
export * from './names.js';
export * from './rejectedAgents.js';
