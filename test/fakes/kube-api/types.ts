// The fake Kubernetes API's wire types (JSON as the real server writes it) and its test-facing option types.

/** Any JSON object as it travels on the wire. */
export type JsonObject = { [key: string]: unknown };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  /** RFC 3339, second precision. */
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** Every stored object: kind and apiVersion are always present in the store. */
export interface KubeObject {
  kind: string;
  apiVersion: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  [key: string]: unknown;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  [key: string]: unknown;
}

export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  resources?: ResourceRequirements;
  securityContext?: SecurityContext;
  volumeMounts?: { name?: string; mountPath?: string; subPath?: string; readOnly?: boolean }[];
  ports?: { containerPort?: number; hostPort?: number; [key: string]: unknown }[];
  [key: string]: unknown;
}

export interface Volume {
  name?: string;
  [key: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: string;
  nodeName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

export interface JobCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface JobStatusWire {
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  startTime?: string;
  completionTime?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  conditions?: JobCondition[];
}

export interface Job extends KubeObject {
  spec: {
    parallelism?: number;
    completions?: number;
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    ttlSecondsAfterFinished?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: PodTemplate;
    [key: string]: unknown;
  };
  status: JobStatusWire;
}

export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt: string | null;
    finishedAt: string;
    containerID?: string;
  };
}

export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: JsonObject;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started: boolean;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface PodStatusWire {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  conditions?: PodCondition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  podIP?: string;
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  qosClass?: string;
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status: PodStatusWire;
}

/** One scenario step (kubernetes.md §8.6). */
export type Step =
  | { pod: 'create' }
  | { unschedulable: string }
  | { schedule: true }
  | {
      waiting:
        | 'ContainerCreating'
        | 'PodInitializing'
        | 'ErrImagePull'
        | 'ImagePullBackOff'
        | 'InvalidImageName'
        | 'CreateContainerConfigError'
        | 'CreateContainerError';
      message?: string;
    }
  | { running: true; log?: string }
  | { log: string }
  | {
      exit: number;
      reason?: 'Completed' | 'Error' | 'OOMKilled' | 'StartError';
      message?: string;
      log?: string;
    }
  | { evict: string }
  | { deadline: true }
  | { refuseAdmission: string };

/** What `fake.requests` holds for every request, in arrival order. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The raw body ('' when none). */
  body: string;
  /** The fake clock's time when the request arrived. */
  time: Date;
}

/** Which requests a failNext() rule applies to; both fields optional (absent = any). */
export type RequestMatch = { method?: string; path?: string | RegExp };

export type FaultAnswer = { code: 429 | 500 | 503 | 504; retryAfter?: number } | 'hang' | 'reset';

export interface FakeKubeApiOptions {
  /** Namespaces that exist; default ['default']; others answer 404 `namespaces "x" not found`. */
  namespaces?: string[];
  /** The bearer token every request must carry (401 otherwise). Without it, any or no token is accepted. */
  token?: string;
  /** Default '1.31': the Job controller's interim conditions exist from 1.31 on. */
  serverVersion?: `1.${number}`;
  /** 'perRead': each GET of one Job advances it one step before answering. Default 'off'. */
  autoAdvance?: 'off' | 'perRead';
  /** Changes kept per resource for watch resumption; default 1000. */
  watchWindow?: number;
  /** OpenShift restricted-v2 admission (kubernetes.md §8.8). */
  openshift?: { uidRange: [number, number] };
  /** Serve https with this PEM certificate and key. */
  tls?: { cert: string; key: string };
}
