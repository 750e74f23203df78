import { type Hello, DigestFormat as WireDigestFormat } from '@kuberelay/proto';
import { DigestFormat } from '@kuberelay/shared';

/** The digest format of a stream: entrySum when the agent offers it, else the one every agent
 * can check (an agent from before the negotiation offers nothing). */
export function digestFormatOf(hello: Hello): DigestFormat {
  return hello.digestFormats.includes(WireDigestFormat.DIGEST_FORMAT_ENTRY_SUM)
    ? DigestFormat.entrySum
    : DigestFormat.sortedLines;
}

/** The format as Welcome.digest_format says it. */
export function wireDigestFormat(format: DigestFormat): WireDigestFormat {
  return format === DigestFormat.entrySum
    ? WireDigestFormat.DIGEST_FORMAT_ENTRY_SUM
    : WireDigestFormat.DIGEST_FORMAT_UNSPECIFIED;
}
