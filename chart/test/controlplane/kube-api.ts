/**
 * The tests' Kubernetes client: @kubernetes/client-node with the admin kubeconfig helm uses (TLS and auth from
 * there), discovery-based paths for any kind including the CRDs, and the library's Watch and Health.
 */
import {
  ApiException,
  ApisApi,
  type Configuration,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  Health,
  KubeConfig,
  KubernetesObjectApi,
  type ResponseContext,
  ServerConfiguration,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";

export type KObject = {
  apiVersion: string;
  kind: string;
  // Loosely typed on purpose: each test asserts the fields it reads.
  metadata: { name: string; namespace?: string; [k: string]: any };
  [k: string]: any;
};

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KObject;
}

type Ref = { apiVersion: string; kind: string; metadata: { name: string } };
type Labels = Record<string, string>;
const selector = (labels?: Labels) =>
  labels
    ? Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")
    : undefined;
/** The old hand-written client's per-request limit, kept: a stalled apiserver fails a probe instead of hanging it. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * KubernetesObjectApi answering with the server's JSON as is. Its default deserialization into the typed models
 * renames fields (a NetworkPolicy peer's `from` becomes `_from`), turns timestamps into Dates and drops fields the
 * models do not know; the lifecycle tests compare what the server stored with what helm rendered, field by field,
 * so they need the JSON (measured on the chart's rendered objects: the minimal install's NetworkPolicy differs).
 */
class JsonObjectApi extends KubernetesObjectApi {
  protected override async processResponse<T>(response: ResponseContext): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return JSON.parse(text) as T;
    const msg = `${response.httpStatusCode} ${text.slice(0, 500)}`;
    throw new ApiException(response.httpStatusCode, msg, text, response.headers);
  }

  /** The REST path of a kind's collection (discovered), for watches. */
  collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    return this.specUriPath({ apiVersion, kind, metadata: { namespace } }, "list");
  }
}

export class KubeApi {
  readonly kc = new KubeConfig();
  private readonly config: Configuration;
  private readonly objects: JsonObjectApi;

  constructor(kubeconfig: string) {
    this.kc.loadFromFile(kubeconfig);
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error(`${kubeconfig}: no current cluster`);
    this.config = createConfiguration({
      baseServer: new ServerConfiguration(server, {}),
      authMethods: { default: this.kc },
      promiseMiddleware: [
        {
          pre: async (ctx) => {
            ctx.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
            return ctx;
          },
          post: async (res) => res,
        },
      ],
    });
    this.objects = new JsonObjectApi(this.config);
  }

  /** One of the library's typed API groups (CoreV1Api, ApiextensionsV1Api …) on this cluster. */
  client<T>(Api: new (config: Configuration) => T): T {
    return new Api(this.config);
  }

  /** GET /readyz: true when the apiserver is ready; throws while it does not answer yet. */
  ready(): Promise<boolean> {
    return new Health(this.kc).readyz({ timeout: REQUEST_TIMEOUT_MS });
  }

  async version(): Promise<{ gitVersion: string }> {
    return this.client(VersionApi).getCode();
  }

  create(object: KObject): Promise<KObject> {
    return this.objects.create<KObject>(object);
  }

  /** A strategic-merge patch (metadata annotations, spec fields) of an existing object. */
  patch(object: KObject): Promise<KObject> {
    return this.objects.patch<KObject>(object);
  }

  /**
   * POST pods/<name>/eviction, as `kubectl drain` does: true when the pod is evicted, false when a
   * PodDisruptionBudget refuses it for now (429 Too Many Requests); anything else throws.
   */
  async evict(namespace: string, name: string): Promise<boolean> {
    try {
      await this.client(CoreV1Api).createNamespacedPodEviction({
        name,
        namespace,
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
      });
      return true;
    } catch (e) {
      if (e instanceof ApiException && e.code === 429) return false;
      throw e;
    }
  }

  /** An object that must exist. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KObject> {
    return this.objects.read<KObject>({ apiVersion, kind, metadata: { name, namespace } });
  }

  /** The stored version of a (rendered) object, or null when it is not there. */
  async getObject(ref: Ref, namespace: string): Promise<KObject | null> {
    try {
      return await this.get(ref.apiVersion, ref.kind, namespace, ref.metadata.name);
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return null;
      throw e;
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, labels?: Labels): Promise<KObject[]> {
    return (await this.listWithVersion(apiVersion, kind, namespace, labels)).items;
  }

  /** The items and the list's resourceVersion, to watch from exactly this state on. */
  async listWithVersion(apiVersion: string, kind: string, namespace?: string, labels?: Labels) {
    const unset = undefined;
    const l = await this.objects.list<KObject>(
      apiVersion,
      kind,
      namespace,
      unset,
      unset,
      unset,
      unset,
      selector(labels),
    );
    return { items: l.items, resourceVersion: l.metadata?.resourceVersion as string };
  }

  /** Streams watch events until stop() is called; events arrive in the server's order. */
  watch(
    apiVersion: string,
    kind: string,
    namespace: string,
    opts: { labels?: Labels; resourceVersion?: string },
    onEvent: (e: WatchEvent) => void,
  ): { ready: Promise<void>; stop: () => void } {
    let controller: AbortController | undefined;
    let stopped = false;
    let failure: unknown;
    const ready = (async () => {
      const path = await this.objects.collectionPath(apiVersion, kind, namespace);
      const query = { labelSelector: selector(opts.labels), resourceVersion: opts.resourceVersion };
      controller = await new Watch(this.kc).watch(
        path,
        { ...query, allowWatchBookmarks: false },
        (type, object) => onEvent({ type, object } as WatchEvent),
        (err) => {
          if (err && !stopped) failure ??= err;
        },
      );
      if (stopped) controller.abort();
      if (failure) throw failure;
    })();
    return {
      ready,
      stop: () => {
        stopped = true;
        controller?.abort();
      },
    };
  }

  /** Every listable namespaced kind the server serves (preferred versions), for "nothing left" checks. */
  async namespacedListables(): Promise<{ apiVersion: string; kind: string }[]> {
    const groups = await this.client(ApisApi).getAPIVersions();
    const lists = [
      { groupVersion: "v1", list: await this.client(CoreV1Api).getAPIResources() },
      ...(await Promise.all(
        groups.groups.map(async (g) => {
          const v = g.preferredVersion ?? g.versions[0];
          if (!v) throw new Error(`API group ${g.name} serves no version`);
          const list = await this.client(CustomObjectsApi).getAPIResources({
            group: g.name,
            version: v.version,
          });
          return { groupVersion: v.groupVersion, list };
        }),
      )),
    ];
    return lists.flatMap(({ groupVersion, list }) =>
      list.resources
        .filter(
          (r) => !r.name.includes("/") && r.namespaced && r.verbs.includes("list") && r.kind !== "Event",
        )
        .map((r) => ({ apiVersion: groupVersion, kind: r.kind })),
    );
  }
}
