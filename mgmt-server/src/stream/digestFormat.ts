import { AgentFeature, type Hello, DigestFormat as WireDigestFormat } from '@kuberelay/proto';
import { DigestFormat } from '@kuberelay/shared';
import type { StreamDialect } from '../snapshot/snapshotCache.js';

/** The digest format of a stream: entrySum when the agent offers it, else the one every agent
 * can check (an agent from before the negotiation offers nothing). */
export function digestFormatOf(hello: Hello): DigestFormat {
  return hello.digestFormats.includes(WireDigestFormat.DIGEST_FORMAT_ENTRY_SUM)
    ? DigestFormat.entrySum
    : DigestFormat.sortedLines;
}

/** What the Hello offers: the digest format, and whether the agent knows Copy.policy. */
export function dialectOf(hello: Hello): StreamDialect {
  return {
    digestFormat: digestFormatOf(hello),
    copyPolicy: hello.features.includes(AgentFeature.AGENT_FEATURE_COPY_POLICY),
  };
}

/** The format as Welcome.digest_format says it. */
export function wireDigestFormat(format: DigestFormat): WireDigestFormat {
  return format === DigestFormat.entrySum
    ? WireDigestFormat.DIGEST_FORMAT_ENTRY_SUM
    : WireDigestFormat.DIGEST_FORMAT_UNSPECIFIED;
}
