// The architecture rules (issue 9), checked by `npm run arch` in `npm run check` and CI, so the
// layering holds without anyone remembering it. Paths are relative to the repository root.
// CommonJS because dependency-cruiser loads its config with require() as well as import().

/**
 * An npm package by name, resolved (…/node_modules/<name>/…, also through a symlinked
 * node_modules) or not (the bare name).
 */
const npmPackage = (name) => `(^|/)node_modules/${name}(/|$)|^${name}(/|$)`;

/** The npm packages that may only be imported by one corner of src. */
const DOCKERODE = npmPackage('(@types/)?dockerode');
const KUBERNETES_CLIENT = npmPackage('@kubernetes/client-node');
const HONO = npmPackage('(@hono/[^/]+|hono)');
const SQLITE = npmPackage('(@types/)?better-sqlite3');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-only-domain',
      comment:
        'src/domain is the pure vocabulary: it imports nothing outside src/domain — no other ' +
        'layer, no npm package, no node: builtin.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'backend-imports-another-backend',
      comment:
        'A backend is one folder (memory: memory*.ts); it reaches shared code through ' +
        'src/backends/shared, never through another backend.',
      severity: 'error',
      from: { path: '^src/backends/(docker|swarm|kubernetes|slurm)/' },
      to: {
        path: '^src/backends/(docker/|swarm/|kubernetes/|slurm/|podman/|memory[^/]*\\.ts$)',
        pathNot: '^src/backends/$1/',
      },
    },
    {
      name: 'podman-imports-a-backend-but-docker',
      comment:
        "Podman is the Docker backend on Podman's Docker-compatible API (docker/flavour.ts says " +
        'what differs): it may reuse src/backends/docker, and no other backend.',
      severity: 'error',
      from: { path: '^src/backends/podman/' },
      to: { path: '^src/backends/(swarm/|kubernetes/|slurm/|memory[^/]*\\.ts$)' },
    },
    {
      name: 'memory-backend-imports-another-backend',
      comment: 'The memory backend is a backend too.',
      severity: 'error',
      from: { path: '^src/backends/memory[^/]*\\.ts$' },
      to: { path: '^src/backends/(docker|swarm|kubernetes|slurm|podman)/' },
    },
    {
      name: 'shared-imports-a-backend',
      comment: 'src/backends/shared serves the backends; it must not depend on one of them.',
      severity: 'error',
      from: { path: '^src/backends/shared/' },
      to: { path: '^src/backends/(docker/|swarm/|kubernetes/|slurm/|podman/|memory[^/]*\\.ts$)' },
    },
    {
      name: 'http-imports-backend-internals',
      comment:
        'The HTTP layer knows the Port (backend.ts) and the registry, never how a backend works.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: {
        path: '^src/backends/',
        pathNot: '^src/backends/(backend|registry)\\.ts$',
      },
    },
    {
      name: 'service-imports-http',
      comment: 'The job service sits below the HTTP layer: the wire stops at src/http.',
      severity: 'error',
      from: { path: '^src/service/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'service-imports-backend-internals',
      comment:
        'The job service drives every backend through the Port (backend.ts) and nothing else.',
      severity: 'error',
      from: { path: '^src/service/' },
      to: { path: '^src/backends/', pathNot: '^src/backends/backend\\.ts$' },
    },
    {
      name: 'only-kubernetes-imports-its-client',
      comment: 'Only src/backends/kubernetes may load @kubernetes/client-node.',
      severity: 'error',
      from: { pathNot: '^src/backends/kubernetes/' },
      to: { path: KUBERNETES_CLIENT },
    },
    {
      name: 'only-engine-backends-import-dockerode',
      comment: 'Only src/backends/{docker,swarm,shared} may load dockerode.',
      severity: 'error',
      from: { pathNot: '^src/backends/(docker|swarm|shared)/' },
      to: { path: DOCKERODE },
    },
    {
      name: 'only-http-imports-hono',
      comment:
        'Backends, the service and the domain never import Hono (architecture.md §7); main.ts ' +
        'serves the app.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http/|main\\.ts$)' },
      to: { path: HONO },
    },
    {
      name: 'only-store-imports-sqlite',
      comment:
        'Only src/store may load better-sqlite3: the rest sees typed repositories (issue 11).',
      severity: 'error',
      from: { pathNot: '^src/store/' },
      to: { path: SQLITE },
    },
    {
      name: 'store-imports-upper-layers',
      comment:
        'src/store sits below the service: it knows the domain, never the wire, the service or ' +
        'a backend.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(http|backends|service)/' },
    },
    {
      name: 'no-circular',
      comment: 'No import loop in src (type-only imports included: they are a design loop too).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies of the design too: keep them in the graph.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
