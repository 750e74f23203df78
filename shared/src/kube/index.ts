export * from './configMapData.js';
export * from './informer.js';
export * from './kindServed.js';
export * from './kubeRest.js';
