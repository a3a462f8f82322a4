// CONTAINER_ENV → the chosen backend's module from the registry, and that backend's own settings,
// read by the module itself. Generic: nothing here names a backend except pman's default.
import { backendModule, backendModules } from '../backends/registry.js';
import type { AnyBackendModule, BackendName, BackendSettings } from '../backends/registry.js';
import type { EnvReader } from './env-reader.js';

/** pman's default backend, when CONTAINER_ENV is unset. */
const DEFAULT_BACKEND: BackendName = 'docker';

export interface BackendChoice {
  module: AnyBackendModule;
  /** The CONTAINER_ENV word used: the name or one of its aliases. */
  as: string;
}

/** Every CONTAINER_ENV word, in registry order, each backend's aliases after its name. */
export function containerEnvWords(): string[] {
  return backendModules().flatMap((m) => [m.name, ...m.aliases]);
}

function moduleFor(word: string): AnyBackendModule | undefined {
  return backendModules().find((m) => m.name === word || m.aliases.includes(word));
}

export function chooseBackend(r: EnvReader): BackendChoice {
  const fallback = { module: backendModule(DEFAULT_BACKEND), as: DEFAULT_BACKEND };
  const word = r.raw('CONTAINER_ENV');
  if (word === undefined) return fallback;
  const module = moduleFor(word);
  if (module === undefined) {
    const hint = word === 'cromwell' ? ' (there is no cromwell backend)' : '';
    r.problem('CONTAINER_ENV', `"${word}" is not one of ${containerEnvWords().join(', ')}${hint}`);
    return fallback;
  }
  return { module, as: word };
}

/** The chosen backend's settings; first, the other backends refuse values only they can honour. */
export function readBackendSettings(r: EnvReader, choice: BackendChoice): BackendSettings {
  for (const other of backendModules()) {
    if (other !== choice.module) other.checkElsewhere?.(r, choice.module.name);
  }
  return choice.module.readSettings(r, choice.as);
}
