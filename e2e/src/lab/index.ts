export {
  createNamespaces,
  DEFAULT_CRD_STALL_TIMEOUT_MS,
  type InstallCrdsOptions,
  installCrds,
  readCrds,
  waitForCrds,
} from './crds.js';
export { ensureGatewayApiCrds, gatewayApiCrdDir } from './gatewayApi.js';
export * from './lab.js';
export {
  cacheDir,
  crdDir,
  defaultLabDir,
  glooCrdFixtureDir,
  k8sVersion,
  labBinDir,
  repoRoot,
} from './paths.js';
