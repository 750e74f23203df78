// Public API of @kuberelay/mgmt-server: start a management server in-process (end-to-end tests,
// the demo) and the pieces a test may want to drive directly.

export type { Authenticator, AuthRequest, Identity } from './auth/authenticator.js';
export { CertificateAuthenticator } from './auth/certificateAuthenticator.js';
export { HELP_TEXT, type MgmtServerConfig, parseFlags } from './config/parseFlags.js';
export { RELAY_SERVICE_NAME } from './grpc/grpcServer.js';
export {
  type AgentBootstrap,
  type IssueAgentBootstrapOptions,
  issueAgentBootstrap,
} from './pki/issueAgentBootstrap.js';
export { type ClusterSnapshot, SnapshotCache } from './snapshot/snapshotCache.js';
export { type MgmtServer, type MgmtServerOptions, startMgmtServer } from './startMgmtServer.js';
export { EventReason } from './status/outcomeEvents.js';
export { type AgentStreamIo, runAgentStream } from './stream/agentStream.js';
export { StreamEndCode, StreamError } from './stream/streamError.js';
