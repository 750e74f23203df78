// Public API of @kuberelay/agent: start an agent for one workload cluster.
export { type Agent, type AgentOptions, startAgent } from './agent.js';
export { type AgentCopyResult, CopyCode, Outcome } from './apply/copyResult.js';
export { type Drift, DriftReason, type FindDriftOptions, findDrift } from './apply/findDrift.js';
// The protocol without the Kubernetes side, for harnesses that stand in for many agents
// (e2e/src/bench/scale): the same session, dialer and Bootstrap call the agent itself uses.
export { type ChannelAuth, callBootstrap, createRelayDialer } from './connection/grpcDial.js';
export { RelaySession, type SessionHandler, type VersionReply } from './connection/session.js';
export {
  type AgentAuth,
  type CredentialInputs,
  CredentialsKey,
  credentialsFromSecretData,
  type ResolvedCredentials,
  resolveCredentials,
  type TlsMaterial,
} from './identity/agentCredentials.js';
export {
  AgentIdentity,
  type AgentIdentityOptions,
  DEFAULT_RENEW_FRACTION,
} from './identity/agentIdentity.js';
export { certificateFactsOf, keyMatchesCertificate } from './identity/certificateFacts.js';
export {
  type CredentialsStore,
  type CredentialsUpdate,
  FileCredentialsStore,
  SecretCredentialsStore,
} from './identity/credentialsStore.js';
export {
  type IdentityFromSecretOptions,
  identityFromSecret,
  type LoadAgentIdentityOptions,
  type LoadedIdentity,
  loadAgentIdentity,
} from './identity/identityFromSecret.js';
export { findUntracked, type InventoryEntry } from './prune/findUntracked.js';
export { loadState, type PersistedCopy, type PersistedState, saveState } from './state/stateFile.js';
export { AGENT_VERSION } from './version.js';
