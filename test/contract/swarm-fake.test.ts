// The conformance suite: the swarm backend against the fake Engine API (the fast tier; the real
// swarm runs the same suite in test/engine/swarm.test.ts).
import { describeBackend } from './backend.contract.js';
import { engineHarness } from './engine-rig.js';

describeBackend('swarm on the fake engine', () => engineHarness('swarm'));
