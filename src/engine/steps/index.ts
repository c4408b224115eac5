import type { StepContext, StepName, StepOutcome } from '../step-context.js';
import { awaitServer, bootServer } from './boot.js';
import { reconcileConversion, startConversion } from './convert.js';
import { reconcileCycle, releaseVmSnapshot, startCycle } from './cycle.js';
import { provision } from './provision.js';
import { takeSnapshot } from './snapshot.js';

/** What each step does; the order of the flow is in the steps' outcomes. */
export const STEPS: Record<StepName, (ctx: StepContext) => Promise<StepOutcome>> = {
  provision,
  cycle: startCycle,
  'await-cycle': reconcileCycle,
  'release-vm-snapshot': releaseVmSnapshot,
  snapshot: takeSnapshot,
  convert: startConversion,
  'await-conversion': reconcileConversion,
  boot: bootServer,
  'await-server': awaitServer,
};

/** Where a step that waited on the transport starts again after it failed: the work itself. */
export const RESTART: Partial<Record<StepName, StepName>> = { 'await-cycle': 'cycle', 'await-conversion': 'convert' };

/** Words for the log: "creating the cloud volumes failed: …" */
export const STEP_WORDS: Record<StepName, string> = {
  provision: 'creating and attaching the cloud volumes',
  cycle: 'starting the copy',
  'await-cycle': 'the copy',
  'release-vm-snapshot': 'removing the VM snapshot',
  snapshot: 'taking the snapshot',
  convert: 'starting the conversion',
  'await-conversion': 'the conversion',
  boot: 'creating the server',
  'await-server': 'booting the server',
};
