import { DEFAULT_RELAY_NAMESPACE } from '@kuberelay/shared';
import { DEFAULT_HEARTBEAT_SECONDS, LOG_LEVELS, MGMT_SERVER_SERVICE } from './flagValues.js';

// The --help text, on its own: a long literal that changes with every flag and is read by people,
// not by the parser (README.md shows the same flags; keep both true together).

export const HELP_TEXT = `kuberelay-mgmt-server: distributes Gateway API / Gloo resources annotated
gloo.solo.io/distribute-to from this (management) cluster to the agents of registered workload
clusters, over gRPC.

Usage:
  kuberelay-mgmt-server --cluster-name NAME [flags]

Flags:
  --cluster-name NAME           (required) name of the management cluster; copies are labelled
                                relay.solo.io/cluster=NAME and annotated gloo://NAME/...
  --namespace NS                where KubernetesClusters, token Secrets and Leases live
                                (default ${DEFAULT_RELAY_NAMESPACE})
  --kubeconfig PATH             kubeconfig of the management cluster (default: in-cluster, then
                                $KUBECONFIG, then ~/.kube/config)
  --context NAME                kubeconfig context to use (default: the current one)
  --grpc-listen HOST:PORT       agents' gRPC stream (default :9900)
  --http-listen HOST:PORT       /healthz, /readyz and /metrics (default :9091)
  --dashboard-listen HOST:PORT  the read-only fleet dashboard (default: off). It has no login:
                                keep it on 127.0.0.1 and open it through kubectl port-forward
  --pod-name NAME               this replica's name, shown as the connected pod
                                (default $POD_NAME, else the host name)
  --kinds LIST                  distributable kinds, e.g.
                                Gateway.gateway.networking.k8s.io/v1,Foo.example.com/v1:foos:Namespaced
                                (default: the docs/spec.md §6 set)
  --gateway-class-mapping LIST  GatewayClass swap, from=to[,from=to] (default
                                gloo-gateway-distribute=gloo-gateway; "" turns it off)
  --feature-gates LIST          Gate=true|false[,...]; known: ConfigDistribution (default true)
  --heartbeat-seconds N         heartbeat period of agent streams, 1-300 (default ${DEFAULT_HEARTBEAT_SECONDS})
  --log-level LEVEL             ${LOG_LEVELS.join('|')} (default info)

Mutual TLS (agents authenticate with client certificates from the relay CA, Secret
kuberelay-relay-ca in --namespace; created at first start when missing, never overwritten):
  --ca-validity DURATION        lifetime of a CA the server creates (default 365d)
  --server-san NAME             DNS name or IP of the server certificate; repeatable (default
                                localhost, 127.0.0.1, $POD_IP and the ${MGMT_SERVER_SERVICE}
                                Service's names in --namespace)
  --extra-server-san NAME       a DNS name or IP added to those (repeatable): e.g. the load
                                balancer's name agents dial
  --agent-address HOST:PORT     the address agents dial (a Service or load balancer), announced
                                on this replica's Lease: relayctl register's default --server
                                (default: this replica's own address, $POD_IP and the gRPC port)
  --server-cert-validity DUR    lifetime of the server certificate, re-issued at 2/3 of it
                                (default 30d)
  --agent-cert-validity DUR     lifetime of agent client certificates (default 7d)
  --max-streams-per-cluster N   concurrent streams one cluster's certificate may hold (default 2: one plus
                                a replacement while it reconnects; 0 = no limit)
  --stream-messages-per-second N
                                sustained messages per second one stream may send (default 50; 0 = off)
  --stream-message-burst N      messages a stream may send at once before the rate applies (default 200)
  --max-refusals-per-minute N   refused attempts (bad certificate or token) per peer address per minute
                                before that address is cut off early (default 60; 0 = off)
  --max-connections-per-address N
                                open connections to the gRPC port from one address, closed before TLS
                                above it (default 256; raise it, or 0 = off, behind a proxy or NAT
                                that puts many agents behind one address)
  --max-connections N           open connections to the gRPC port in all (default 10000; 0 = off)
  --status-writes-per-second N  KubernetesCluster status writes per second for all clusters (default
                                200; 0 = off): 1,000 clusters changing at once are written within 5 s
                                Durations: a whole number with m, h or d (90m, 12h, 30d).
  -h, --help                    show this help

Exit status: 0 after a graceful stop (SIGINT/SIGTERM), 1 on a runtime failure (e.g. a listen
address already in use: one line names the address and the flag), 2 on bad flags.
`;
