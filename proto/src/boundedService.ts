import type {
  handleBidiStreamingCall,
  handleUnaryCall,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  type Decoded,
  type DecodeLimits,
  decodeBootstrapRequest,
  decodeBootstrapResponse,
  decodeConnectRequest,
  decodeConnectResponse,
} from './decode.js';
import {
  type BootstrapRequest,
  type BootstrapResponse,
  type ConnectRequest,
  type ConnectResponse,
  RelayServiceService,
} from './gen/kuberelay/relay/v1/relay.js';

/**
 * RelayService with the decoding boundary (decode.ts) as its deserializers: every message a
 * handler receives is a `Decoded<T>`, never a thrown exception. Why not throw from the
 * deserializer: grpc-js answers a throwing deserializer with INTERNAL "Error deserializing
 * request" and hides the reason, so a peer sending garbage looks like a server bug. With this
 * definition the handler sees `{ ok: false, error }` and ends the call with a status that says
 * what was wrong (suggested: RESOURCE_EXHAUSTED for TooLarge/LimitExceeded, INVALID_ARGUMENT for
 * Malformed).
 *
 * Serializers are the generated ones: what we send is built by our own code.
 */
export function boundedRelayService(
  limits: { readonly request?: Partial<DecodeLimits>; readonly response?: Partial<DecodeLimits> } = {},
): ServiceDefinition<BoundedRelayServiceServer> {
  return {
    connect: {
      ...RelayServiceService.connect,
      requestDeserialize: (bytes: Buffer) => decodeConnectRequest(bytes, limits.request),
      responseDeserialize: (bytes: Buffer) => decodeConnectResponse(bytes, limits.response),
    },
    bootstrap: {
      ...RelayServiceService.bootstrap,
      requestDeserialize: (bytes: Buffer) => decodeBootstrapRequest(bytes, limits.request),
      responseDeserialize: (bytes: Buffer) => decodeBootstrapResponse(bytes, limits.response),
    },
  };
}

/** A RelayService implementation for boundedRelayService(): requests arrive as Decoded values. */
export interface BoundedRelayServiceServer extends UntypedServiceImplementation {
  connect: handleBidiStreamingCall<Decoded<ConnectRequest>, ConnectResponse>;
  bootstrap: handleUnaryCall<Decoded<BootstrapRequest>, BootstrapResponse>;
}
