import { describe, expect, it } from 'vitest';
import type { Leadership } from './leaderElector.js';
import { ReplicaGroup } from './replicaGroup.js';

// Which saved state a new leader may enforce before the server answers: only what the last leader
// held. Its own state file may be from an earlier term, and enforcing that would revert copies
// the last leader updated since (a write where nothing should change).

describe('ReplicaGroup.trustsSaved', () => {
  it.each<[string, Leadership['previous'], number, boolean]>([
    ['it created the Lease (no leader before): its file is all there is', undefined, 41, true],
    ['the last leader held the same version', { 'kuberelay.dev/held-version': '41' }, 41, true],
    ['the last leader held a newer version', { 'kuberelay.dev/held-version': '57' }, 41, false],
    ['the last leader held nothing yet', { 'kuberelay.dev/held-version': '0' }, 41, false],
    ['a Lease without the annotation (someone else wrote it)', {}, 41, false],
  ])('%s', (_what, previous, savedVersion, trusted) => {
    expect(ReplicaGroup.trustsSaved({ previous, leaseTransitions: 1 })(savedVersion)).toBe(trusted);
  });
});
