export { AGENT_RBAC_NAME, type AgentRbacOptions, agentRbac } from './agentRbac.js';
export {
  type ExplainedRule,
  kindRules,
  type PolicyRule,
  RBAC_API_GROUP,
  RBAC_API_VERSION,
  type RbacBinding,
  type RbacBundle,
  type RbacObject,
  type RbacRole,
  type RbacSubject,
  serviceAccountSubject,
  userSubject,
  Verb,
} from './rbacObjects.js';
export { MGMT_SERVER_RBAC_NAME, type ServerRbacOptions, serverRbac } from './serverRbac.js';
