// Part of scripts/deploy-proof.sh: `kubectl apply -k` of every kustomize variant against the fake
// Kubernetes API (test/fakes/kube-api), then `kubectl get` of what it stored and `kubectl delete -k`
// (what unmake.sh runs). Proves the manifests survive kubectl's own client-side checks and API
// round-trip; the schemas and semantics are checked by test/unit/manifests.test.ts. The delete is
// unmake.sh's two: without -P everything but the job store's PVC, then with -P that too.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeKubeApi } from '../test/fakes/kube-api/index.js';

const variants = ['kubernetes', 'kubernetes/dev', 'kubernetes/openshift'];
const expected = [
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Service',
  'Deployment',
  'PersistentVolumeClaim',
];
/** unmake.sh's selector without -P: everything but kubernetes/base/state.yaml. */
const KEEP_STORE = 'app.kubernetes.io/component!=state';

const api = await startFakeKubeApi();
const dir = mkdtempSync(join(tmpdir(), 'pman-kube-proof-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, api.kubeconfig({ namespace: 'default' }));

// Asynchronous on purpose: the fake answers from this very process, so a sync spawn would hang.
async function kubectl(...args: string[]): Promise<string> {
  const run = promisify(execFile);
  const { stdout } = await run('kubectl', [
    '--kubeconfig',
    kubeconfig,
    '--request-timeout=20s',
    ...args,
  ]);
  return stdout;
}

let failed = false;
try {
  for (const variant of variants) {
    // Schema validation is the unit test's job (kubernetes-models); the fake serves no OpenAPI document.
    const applied = await kubectl('apply', '--validate=false', '-k', variant);
    process.stderr.write(`[deploy-proof-kube] ${variant}:\n${applied}`);
    // A second apply (make.sh run twice) goes through kubectl's patch path.
    await kubectl('apply', '--validate=false', '-k', variant);
    const kinds = await kubectl(
      'get',
      'sa,role,rolebinding,configmap,service,deployment,pvc',
      '-o',
      'json',
    );
    const items = (JSON.parse(kinds) as { items: { kind: string; metadata: { name: string } }[] })
      .items;
    for (const kind of expected) {
      if (!items.some((i) => i.kind === kind && i.metadata.name.startsWith('pman'))) {
        throw new Error(`${variant}: no ${kind} stored after apply`);
      }
    }
    if (!items.some((i) => i.kind === 'PersistentVolumeClaim' && i.metadata.name === 'pman-state'))
      throw new Error(`${variant}: no job store PVC pman-state stored after apply`);
    await kubectl('delete', '-k', variant, '-l', KEEP_STORE, '--ignore-not-found', '--wait=false');
    const kept = (await kubectl('get', 'deployment,pvc', '-o', 'name')).trim().split('\n');
    if (kept.includes('deployment.apps/pman'))
      throw new Error(`${variant}: the Deployment is still stored after unmake.sh's delete`);
    if (!kept.includes('persistentvolumeclaim/pman-state'))
      throw new Error(
        `${variant}: unmake.sh's delete without -P removed the job store: ${kept.join(' ')}`,
      );
    await kubectl('delete', '-k', variant, '--ignore-not-found', '--wait=false');
    const left = await kubectl('get', 'deployment,pvc', '-o', 'name');
    if (left.trim() !== '') throw new Error(`${variant}: still stored after delete -k: ${left}`);
  }
  process.stderr.write('[deploy-proof-kube] every variant applied, read back and deleted\n');
} catch (error) {
  failed = true;
  const err = error as { message: string; stderr?: string };
  process.stderr.write(`[deploy-proof-kube] FAILED: ${err.message}\n${err.stderr ?? ''}\n`);
} finally {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
