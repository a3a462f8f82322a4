// The conformance suite: the docker backend against the fake Engine API (the fast tier; the real
// engine runs the same suite in test/engine/docker.test.ts).
import { describeBackend } from './backend.contract.js';
import { engineHarness } from './engine-rig.js';

describeBackend('docker on the fake engine', () => engineHarness('docker'));
