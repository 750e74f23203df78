/**
 * Counts entries of repeated fields in protobuf bytes without decoding them, so a message that
 * claims millions of tiny entries is refused before the generated decoder allocates an object per
 * entry (a 16 MiB Ack of empty results is 8 million objects). Reads only tags and lengths: linear
 * in the input, no allocation per entry, no recursion beyond the two levels it is told about.
 */

/** Wire types from the protobuf encoding spec. */
const WireType = { Varint: 0, I64: 1, Len: 2, StartGroup: 3, EndGroup: 4, I32: 5 } as const;

/**
 * Which repeated fields to count: outer field number (a oneof member or message field of the
 * top-level message) → inner field number → the name the count is reported under.
 */
export type RepeatedFields = Readonly<Record<number, Readonly<Record<number, string>>>>;

export type ScanResult =
  | { readonly ok: true; readonly counts: ReadonlyMap<string, number> }
  | { readonly ok: false; readonly message: string };

/**
 * Walks the top level of `bytes` and, inside each length-delimited field listed in `fields`, counts
 * the listed inner fields. An outer field that occurs more than once (legal protobuf: the last one
 * wins, or they merge) adds to the same counts, so the result is an upper bound. Fails on
 * truncated data, field number 0 and groups (proto3 never writes them).
 */
export function scanRepeated(bytes: Uint8Array, fields: RepeatedFields): ScanResult {
  const counts = new Map<string, number>();
  const outer = walk(bytes, 0, bytes.length, (field, start, end) => {
    const inner = fields[field];
    if (inner === undefined) return undefined;
    return walk(bytes, start, end, (innerField) => {
      const name = inner[innerField];
      if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
      return undefined;
    });
  });
  return outer === undefined ? { ok: true, counts } : { ok: false, message: outer };
}

/**
 * Calls `onField` for every field in bytes[start, end): for length-delimited fields with the
 * payload's bounds, for others with an empty range. Returns the first problem, if any.
 */
function walk(
  bytes: Uint8Array,
  start: number,
  end: number,
  onField: (field: number, start: number, end: number) => string | undefined,
): string | undefined {
  let pos = start;
  while (pos < end) {
    const tag = readVarint(bytes, pos, end);
    if (tag === undefined) return `truncated tag at byte ${pos}`;
    pos = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (field === 0) return `field number 0 at byte ${pos}`;
    switch (wireType) {
      case WireType.Varint: {
        const value = readVarint(bytes, pos, end);
        if (value === undefined) return `truncated varint in field ${field}`;
        pos = value.next;
        break;
      }
      case WireType.I64:
        pos += 8;
        break;
      case WireType.I32:
        pos += 4;
        break;
      case WireType.Len: {
        const length = readVarint(bytes, pos, end);
        if (length === undefined) return `truncated length of field ${field}`;
        const payloadEnd = length.next + length.value;
        if (payloadEnd > end) return `field ${field} claims ${length.value} bytes, ${end - length.next} left`;
        const problem = onField(field, length.next, payloadEnd);
        if (problem !== undefined) return problem;
        pos = payloadEnd;
        continue;
      }
      default:
        return `unsupported wire type ${wireType} in field ${field}`;
    }
    if (pos > end) return `truncated field ${field}`;
    const problem = onField(field, pos, pos);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * A varint of at most 10 bytes, as a number. Values above 2^53 lose precision, which is harmless
 * here: as a tag or a length they are out of range anyway and rejected by the caller.
 */
function readVarint(
  bytes: Uint8Array,
  pos: number,
  end: number,
): { readonly value: number; readonly next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) return undefined;
    const byte = bytes[pos + i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: pos + i + 1 };
    scale *= 128;
  }
  return undefined;
}
