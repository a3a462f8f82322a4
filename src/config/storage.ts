// STORAGE_TYPE and where storeBase is (api.md §7.2): the shared reader, checked against the
// storage types the chosen backend allows. Pure: docker_local_volume becomes a host path later,
// at start-up, through the backend's module.
import type { EnvReader } from './env-reader.js';
import { dnsSubdomainProblem } from './syntax.js';

export const STORAGE_TYPES = ['host', 'docker_local_volume', 'kubernetes_pvc'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

/** Storage as configured, before start-up I/O. */
export type StorageConfig =
  | { type: 'host'; storeBase: string }
  | { type: 'docker_local_volume'; volumeName?: string; pfconSelector: string }
  | { type: 'kubernetes_pvc'; claimName: string };

/** What a backend accepts; it states this in its module (src/backends/module.ts). */
export interface StorageRules {
  /** The allowed STORAGE_TYPEs, the default first. */
  types: readonly [StorageType, ...StorageType[]];
  /** STOREBASE and VOLUME_NAME may stay unset (placeholders are used): only for a backend that
   *  never mounts anything (memory). */
  locationOptional?: boolean;
}

/** Placeholders for a backend that only records mounts. */
const PLACEHOLDER_STOREBASE = '/var/local/storeBase';
const PLACEHOLDER_CLAIM = 'storebase';
const DEFAULT_PFCON_SELECTOR = 'org.chrisproject.role=pfcon';

function absolutePath(r: EnvReader, name: string): string | undefined {
  const value = r.string(name);
  if (value !== undefined && !value.startsWith('/')) {
    r.problem(name, `"${value}" is not an absolute path`);
  }
  return value;
}

function claimName(r: EnvReader): string | undefined {
  return r.parsed('VOLUME_NAME', (v) => {
    const problem = dnsSubdomainProblem(v);
    return problem === undefined ? { ok: true, value: v } : { ok: false, error: problem };
  });
}

/** STORAGE_TYPE (defaulting to the backend's first type) and its location variables. */
export function readStorage(
  r: EnvReader,
  backend: string,
  rules: StorageRules,
): { storageType: StorageType; storage: StorageConfig } {
  const allowed: readonly StorageType[] = rules.types;
  const fallback = rules.types[0];
  let storageType = r.oneOf('STORAGE_TYPE', STORAGE_TYPES, fallback);
  if (!allowed.includes(storageType)) {
    r.problem(
      'STORAGE_TYPE',
      `"${storageType}" is not allowed with CONTAINER_ENV=${backend}; use ${allowed.join(' or ')}`,
    );
    storageType = fallback;
  }
  const required = rules.locationOptional !== true;
  switch (storageType) {
    case 'host': {
      const storeBase = absolutePath(r, 'STOREBASE');
      if (storeBase === undefined && required) {
        r.problem(
          'STOREBASE',
          'required with STORAGE_TYPE=host (the absolute host path of storeBase)',
        );
      }
      return {
        storageType,
        storage: { type: 'host', storeBase: storeBase ?? PLACEHOLDER_STOREBASE },
      };
    }
    case 'docker_local_volume': {
      const volumeName = r.string('VOLUME_NAME');
      const pfconSelector = r.string('PFCON_SELECTOR') ?? DEFAULT_PFCON_SELECTOR;
      return {
        storageType,
        storage: {
          type: 'docker_local_volume',
          pfconSelector,
          ...(volumeName !== undefined && { volumeName }),
        },
      };
    }
    case 'kubernetes_pvc': {
      const claim = claimName(r);
      if (claim === undefined && !r.isSet('VOLUME_NAME') && required) {
        r.problem(
          'VOLUME_NAME',
          'required with STORAGE_TYPE=kubernetes_pvc (the name of the storeBase PVC)',
        );
      }
      return {
        storageType,
        storage: { type: 'kubernetes_pvc', claimName: claim ?? PLACEHOLDER_CLAIM },
      };
    }
  }
}
