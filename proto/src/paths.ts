import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (proto/), from src/ or dist/. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The folder the .proto files live in (an include path for @grpc/proto-loader). */
export const protoRoot = root;

/** The relay protocol's .proto file, for gRPC server reflection. */
export const relayProtoFile = join(root, 'kuberelay', 'relay', 'v1', 'relay.proto');
