// The label every Kubernetes Job and pod we create carries; list() and the informers select on it.
export const KUBE_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'pman';
