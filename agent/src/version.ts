/** Reported in Hello and shown in the KubernetesCluster status. Kept equal to package.json. */
export const AGENT_VERSION = '0.1.0';
