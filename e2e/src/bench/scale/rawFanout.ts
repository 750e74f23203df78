import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';

// The raw grpc-js baseline of the scale benchmark: a bare server in its own process (as the
// relay's server is) holding one bidirectional stream per client, which on request writes M
// messages of B bytes to every stream. Nothing but grpc-js: what the relay's delivery is compared
// with. Plaintext, which flatters the baseline slightly (the relay pays TLS record encryption).

const passthrough = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const service: ServiceDefinition = {
  stream: { path: '/raw.Fanout/Stream', requestStream: true, responseStream: true, ...passthrough },
};

/** In the child: serve, and on a control message from the parent write to every stream. */
function serve(): void {
  const streams = new Set<ServerDuplexStream<Buffer, Buffer>>();
  const server = new Server({ 'grpc.max_receive_message_length': 16 << 20 });
  server.addService(service, {
    stream: (call: ServerDuplexStream<Buffer, Buffer>) => {
      streams.add(call);
      process.send?.({ streams: streams.size });
      call.on('data', () => {});
      call.on('end', () => call.end());
      call.on('close', () => streams.delete(call));
      call.on('error', () => streams.delete(call));
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.send?.({ port });
  });
  process.on('message', (m: { messages: number; bytes: number }) => {
    const payload = Buffer.alloc(m.bytes, 120);
    for (const call of streams) for (let i = 0; i < m.messages; i++) call.write(payload);
  });
}

export interface RawFanout {
  /** Time in ms until every client has received `messages` more messages of `bytes` each. */
  broadcast(messages: number, bytes: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the baseline server process and `clients` streams to it from this process. */
export async function startRawFanout(clients: number): Promise<RawFanout> {
  const child = fork(fileURLToPath(import.meta.url), ['serve'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let open = 0;
  let allOpen: (() => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { port?: number; streams?: number }) => {
      if (m.port !== undefined) resolve(m.port);
      if (m.streams !== undefined) {
        open = m.streams;
        if (open === clients) allOpen?.();
      }
    });
    child.once('exit', (code) => reject(new Error(`the raw fan-out server exited (${code})`)));
  });
  const Client = makeGenericClientConstructor(service, 'Fanout');
  const received = new Array<number>(clients).fill(0);
  let waiting: { target: number; resolve: () => void } | undefined;
  let complete = 0;
  const calls: ClientDuplexStream<Buffer, Buffer>[] = [];
  const clientObjects: InstanceType<typeof Client>[] = [];
  for (let i = 0; i < clients; i++) {
    // One channel (one TCP connection) per client, as every agent has its own.
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    clientObjects.push(client);
    const call = (client as unknown as { stream: () => ClientDuplexStream<Buffer, Buffer> }).stream();
    call.on('data', () => {
      received[i] = (received[i] ?? 0) + 1;
      if (waiting !== undefined && received[i] === waiting.target) {
        complete += 1;
        if (complete === clients) waiting.resolve();
      }
    });
    call.on('error', () => {});
    call.write(Buffer.from('hello'));
    calls.push(call);
  }
  // Every stream must be open on the server before the first broadcast counts it.
  await new Promise<void>((resolve) => {
    allOpen = resolve;
    if (open === clients) resolve();
  });
  let target = 0;
  const broadcast = async (messages: number, bytes: number): Promise<number> => {
    target += messages;
    complete = 0;
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      waiting = { target, resolve };
    });
    child.send({ messages, bytes });
    await done;
    return performance.now() - started;
  };
  await broadcast(1, 16);
  return {
    broadcast,
    stop: async () => {
      for (const call of calls) call.end();
      for (const client of clientObjects) client.close();
      child.kill();
    },
  };
}

if (process.argv[2] === 'serve') serve();
