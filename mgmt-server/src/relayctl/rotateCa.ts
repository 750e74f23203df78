import { DEFAULT_CA_VALIDITY_MS, parseDurationFlag, RELAY_CA_SECRET } from '@kuberelay/shared';
import { createCa, RotationStep, relayCaOf, rotateCa, splitPemBundle } from '@kuberelay/shared/pki';
import { CliError, CliErrorCode, ExitCode, UsageError } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import { type SecretObject, secretRef } from './kubeResources.js';
import { renderJson } from './render.js';

export const rotateCaCommand: Command = {
  name: 'rotate-ca',
  summary: 'rotate the relay CA in three steps: begin, switch, finish',
  usage: `Rotate the relay CA (Secret ${RELAY_CA_SECRET} in the server's namespace, -n) without
disconnecting agents or touching any copy.

Usage:
  relayctl rotate-ca begin [--ca-validity DURATION]
  relayctl rotate-ca switch
  relayctl rotate-ca finish

  begin   creates a new CA and adds it to the trusted bundle; the old CA still signs. Servers
          push the bundle to every agent.
  switch  makes the new CA the signing one (servers re-issue their own certificate, agents
          renew theirs); the old CA stays trusted.
  finish  drops the old CA from the bundle. Run it once every agent has renewed (at the latest
          after --agent-cert-validity of the server, 7d by default): certificates of the old
          CA stop working.

Flags:
      --ca-validity DURATION  lifetime of the new CA (begin only; default 365d)

-o json: { "kind": "RelayctlRotateCa", "step", "namespace", "context", "bundle": N (CAs
trusted now), "next": true|false }`,
  options: { 'ca-validity': { type: 'string' } },
  run: runRotateCa,
};

async function runRotateCa(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const [stepName = ''] = requirePositionals(parsed, 'rotate-ca', ['step']);
  if (!(Object.values(RotationStep) as string[]).includes(stepName)) {
    throw new UsageError(`rotate-ca step must be begin, switch or finish, not "${stepName}"`, {
      command: 'rotate-ca',
    });
  }
  const step = stepName as RotationStep;
  const validity = parseDurationFlag('ca-validity', parsed.strings['ca-validity'], {
    fallback: DEFAULT_CA_VALIDITY_MS,
    minMs: 86_400_000,
  });
  if (!validity.ok) throw new UsageError(validity.errors[0].message, { command: 'rotate-ca' });
  const { io, globals } = ctx;
  const ns = globals.namespace;
  const mgmt = ctx.mgmt();
  const ref = secretRef(ns, RELAY_CA_SECRET);
  const secret = await mgmt.get<SecretObject>(ref, `reading the relay CA Secret ${ns}/${RELAY_CA_SECRET}`);
  if (secret === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `the relay CA Secret ${ns}/${RELAY_CA_SECRET} does not exist in context "${mgmt.context}": start the management server first`,
    });
  }
  const current = relayCaOf(secret);
  if (!current.ok) {
    throw new CliError({ code: CliErrorCode.NotInstalled, message: current.errors[0].message });
  }
  const newCa =
    step === RotationStep.begin
      ? await createCa({
          commonName: 'kuberelay relay CA',
          validityMs: validity.value,
          now: io.now().getTime(),
        })
      : undefined;
  const data = rotateCa({ step, current: current.value, newCa });
  if (!data.ok) throw new CliError({ code: CliErrorCode.Conflict, message: data.errors[0].message });
  // A replace that carries the resourceVersion we read: if a server or another relayctl changed
  // the Secret meanwhile, the API server refuses (409) instead of losing their change.
  await mgmt.replace(
    ref,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: secret.type ?? 'kubernetes.io/tls',
      metadata: secret.metadata,
      data: Object.fromEntries(
        Object.entries(data.value).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
    },
    `writing the relay CA Secret ${ns}/${RELAY_CA_SECRET}`,
  );
  const bundle = splitPemBundle(data.value['ca-bundle.crt'] ?? '').length;
  const next = {
    begin: 'Next: once servers pushed the bundle (seconds), run "relayctl rotate-ca switch".',
    switch: 'Next: once every agent renewed its certificate, run "relayctl rotate-ca finish".',
    finish: 'The rotation is complete.',
  }[step];
  io.stderr(
    `✔ rotate-ca ${step}: ${bundle} CA(s) trusted in ${ns}/${RELAY_CA_SECRET} (context "${mgmt.context}"). ${next}\n`,
  );
  if (globals.output === OutputFormat.json) {
    io.stdout(
      renderJson({
        kind: 'RelayctlRotateCa',
        schemaVersion: 1,
        step,
        namespace: ns,
        context: mgmt.context,
        bundle,
        next: step === RotationStep.begin,
      }),
    );
  }
  return ExitCode.ok;
}
