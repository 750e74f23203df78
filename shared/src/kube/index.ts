export * from './informer.js';
export * from './kubeRest.js';
