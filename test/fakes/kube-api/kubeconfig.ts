// A kubeconfig that points a real client at the fake: skipTLSVerify over http, the CA data over https.

import { stringify } from 'yaml';

export function kubeconfigYaml(o: {
  url: string;
  token: string;
  namespace: string;
  /** PEM certificate to trust (https); absent for http. */
  caCert?: string;
}): string {
  // Names unique per server: client-node caches credentials by user name.
  const id = `fake-kube-api-${new URL(o.url).port}`;
  const cluster: Record<string, unknown> = { server: o.url };
  if (o.caCert) cluster['certificate-authority-data'] = Buffer.from(o.caCert).toString('base64');
  else cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: id, cluster }],
    users: [{ name: id, user: { token: o.token } }],
    contexts: [{ name: id, context: { cluster: id, user: id, namespace: o.namespace } }],
    'current-context': id,
    preferences: {},
  });
}
