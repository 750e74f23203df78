export { createNamespaces, installCrds, readCrds } from './crds.js';
export * from './lab.js';
export { crdDir, defaultLabDir, k8sVersion, labBinDir, repoRoot } from './paths.js';
