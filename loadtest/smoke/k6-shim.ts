import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import WebSocketImpl from "ws";

/**
 * The k6 module surface the scripts use (k6, k6/http, k6/websockets, k6/metrics, k6/timers), implemented on
 * Node for the smoke check of script logic. k6's HTTP and sleep block the VU; here a worker thread does the
 * fetch while the VU waits on an Atomics flag, so scripts run unmodified with their synchronous semantics.
 * It runs one VU and has none of k6's load-generation machinery.
 */

type Tags = Record<string, string | number | boolean>;

export class MetricStore {
  readonly metrics = new Map<string, { type: "trend" | "counter" | "rate" | "gauge"; values: number[] }>();
  readonly checks = new Map<string, { passes: number; fails: number }>();
  readonly errors: string[] = [];

  add(name: string, type: "trend" | "counter" | "rate" | "gauge", value: number): void {
    let m = this.metrics.get(name);
    if (!m) {
      m = { type, values: [] };
      this.metrics.set(name, m);
    }
    m.values.push(value);
  }

  declare(name: string, type: "trend" | "counter" | "rate" | "gauge"): void {
    if (!this.metrics.has(name)) this.metrics.set(name, { type, values: [] });
  }
}

/** Open WebSockets and pending timers: an iteration ends when none are left, as in k6's event loop. */
export class EventLoop {
  private active = 0;
  private waiters: Array<() => void> = [];
  hold(): void {
    this.active++;
  }
  release(): void {
    this.active--;
    if (this.active <= 0) {
      this.active = 0;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
  get pending(): number {
    return this.active;
  }
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

const HTTP_WORKER = `
const { workerData } = require("node:worker_threads");
const flag = new Int32Array(workerData.sab);
workerData.port.on("message", async (req) => {
  const t0 = performance.now();
  let res;
  try {
    const r = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const body = await r.text();
    res = { status: r.status, body, headers: Object.fromEntries(r.headers), duration: performance.now() - t0 };
  } catch (e) {
    res = { status: 0, body: "", headers: {}, error: String(e), duration: performance.now() - t0 };
  }
  workerData.port.postMessage(res);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

export interface ShimRuntime {
  modules: Record<string, Record<string, unknown>>;
  store: MetricStore;
  loop: EventLoop;
  dispose(): Promise<void>;
}

export function createK6Runtime(): ShimRuntime {
  const store = new MetricStore();
  const loop = new EventLoop();
  const sab = new SharedArrayBuffer(4);
  const flag = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(HTTP_WORKER, {
    eval: true,
    workerData: { sab, port: port2 },
    transferList: [port2],
  });
  worker.unref();
  for (const [n, t] of [
    ["http_req_duration", "trend"],
    ["http_req_failed", "rate"],
    ["http_reqs", "counter"],
    ["checks", "rate"],
    ["iterations", "counter"],
    ["ws_sessions", "counter"],
  ] as const)
    store.declare(n, t);

  // Callbacks run from Node's loop; k6 would fail the iteration on a throw, so record it as an error.
  const guarded =
    <A extends unknown[]>(fn: ((...a: A) => void) | undefined | null, what: string) =>
    (...a: A) => {
      if (!fn) return;
      try {
        fn(...a);
      } catch (e) {
        store.errors.push(`${what}: ${(e as Error).stack ?? e}`);
      }
    };

  function request(
    method: string,
    url: string,
    body?: string | null,
    params?: { headers?: Record<string, string> },
  ) {
    Atomics.store(flag, 0, 0);
    port1.postMessage({ method, url, body: body ?? undefined, headers: params?.headers ?? {} });
    if (Atomics.wait(flag, 0, 0, 30_000) === "timed-out") throw new Error(`http ${method} ${url} timed out`);
    const msg = receiveMessageOnPort(port1)?.message as
      | { status: number; body: string; headers: Record<string, string>; duration: number; error?: string }
      | undefined;
    if (!msg) throw new Error("http worker returned nothing");
    store.add("http_req_duration", "trend", msg.duration);
    store.add("http_req_failed", "rate", msg.status === 0 || msg.status >= 400 ? 1 : 0);
    store.add("http_reqs", "counter", 1);
    return {
      status: msg.status,
      body: msg.body,
      headers: msg.headers,
      error: msg.error ?? "",
      timings: { duration: msg.duration },
      json(selector?: string) {
        const v = JSON.parse(msg.body);
        if (!selector) return v;
        return selector
          .split(".")
          .reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), v);
      },
    };
  }

  const http = {
    get: (url: string, params?: { headers?: Record<string, string> }) => request("GET", url, null, params),
    post: (url: string, body?: string | null, params?: { headers?: Record<string, string> }) =>
      request("POST", url, body, params),
    put: (url: string, body?: string | null, params?: { headers?: Record<string, string> }) =>
      request("PUT", url, body, params),
    del: (url: string, body?: string | null, params?: { headers?: Record<string, string> }) =>
      request("DELETE", url, body, params),
    request,
  };

  const sleepFlag = new Int32Array(new SharedArrayBuffer(4));
  const k6 = {
    check<T>(val: T, sets: Record<string, (v: T) => boolean>, _tags?: Tags): boolean {
      let all = true;
      for (const [name, fn] of Object.entries(sets)) {
        let ok = false;
        try {
          ok = Boolean(fn(val));
        } catch {
          ok = false;
        }
        const c = store.checks.get(name) ?? { passes: 0, fails: 0 };
        if (ok) c.passes++;
        else c.fails++;
        store.checks.set(name, c);
        store.add("checks", "rate", ok ? 1 : 0);
        all &&= ok;
      }
      return all;
    },
    group<T>(_name: string, fn: () => T): T {
      return fn();
    },
    sleep(seconds: number): void {
      Atomics.wait(sleepFlag, 0, 0, seconds * 1000);
    },
    fail(message?: string): never {
      throw new Error(message ?? "fail() called");
    },
  };

  const metric = (type: "trend" | "counter" | "rate" | "gauge") =>
    class {
      constructor(readonly name: string) {
        store.declare(name, type);
      }
      add(value: number | boolean, _tags?: Tags): void {
        store.add(this.name, type, typeof value === "boolean" ? Number(value) : value);
      }
    };
  const metrics = {
    Trend: metric("trend"),
    Counter: metric("counter"),
    Rate: metric("rate"),
    Gauge: metric("gauge"),
  };

  const timers = new Map<number, { handle: NodeJS.Timeout; interval: boolean }>();
  let nextTimer = 1;
  const timerModule = {
    setTimeout(fn: (...a: unknown[]) => void, ms: number, ...args: unknown[]): number {
      const id = nextTimer++;
      loop.hold();
      const handle = setTimeout(() => {
        timers.delete(id);
        guarded(fn, "setTimeout callback")(...args);
        loop.release();
      }, ms);
      timers.set(id, { handle, interval: false });
      return id;
    },
    clearTimeout(id: number): void {
      const t = timers.get(id);
      if (!t) return;
      timers.delete(id);
      clearTimeout(t.handle);
      loop.release();
    },
    setInterval(fn: (...a: unknown[]) => void, ms: number, ...args: unknown[]): number {
      const id = nextTimer++;
      loop.hold();
      const handle = setInterval(() => guarded(fn, "setInterval callback")(...args), ms);
      timers.set(id, { handle, interval: true });
      return id;
    },
    clearInterval(id: number): void {
      const t = timers.get(id);
      if (!t) return;
      timers.delete(id);
      clearInterval(t.handle);
      loop.release();
    },
  };

  class WebSocket {
    onopen: (() => void) | null = null;
    onmessage: ((e: { data: string; type: string; timestamp: number }) => void) | null = null;
    onclose: (() => void) | null = null;
    onerror: ((e: { error: string; type: string; timestamp: number }) => void) | null = null;
    binaryType = "blob";
    private readonly ws: WebSocketImpl;
    private readonly listeners = new Map<string, Array<(e: unknown) => void>>();
    constructor(
      readonly url: string,
      _protocols?: null,
      _params?: unknown,
    ) {
      loop.hold();
      store.add("ws_sessions", "counter", 1);
      this.ws = new WebSocketImpl(url, { perMessageDeflate: false });
      let released = false;
      this.ws.on("open", () => this.fire("open", {}));
      this.ws.on("message", (d, isBinary) =>
        this.fire("message", { data: isBinary ? d : d.toString(), type: "message", timestamp: Date.now() }),
      );
      this.ws.on("error", (err) =>
        this.fire("error", { error: String(err), type: "error", timestamp: Date.now() }),
      );
      this.ws.on("close", () => {
        this.fire("close", {});
        if (!released) {
          released = true;
          loop.release();
        }
      });
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    get bufferedAmount(): number {
      return this.ws.bufferedAmount;
    }
    send(data: string): void {
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code ?? 1000, reason);
    }
    addEventListener(event: string, fn: (e: unknown) => void): void {
      const l = this.listeners.get(event) ?? [];
      l.push(fn);
      this.listeners.set(event, l);
    }
    private fire(event: string, e: unknown) {
      const prop = (this as unknown as Record<string, ((e: unknown) => void) | null>)[`on${event}`];
      guarded(prop ?? undefined, `ws on${event}`)(e);
      for (const l of this.listeners.get(event) ?? []) guarded(l, `ws ${event} listener`)(e);
    }
  }

  return {
    store,
    loop,
    modules: {
      k6: { ...k6, default: k6 },
      "k6/http": { ...http, default: http },
      "k6/metrics": metrics,
      "k6/timers": timerModule,
      "k6/websockets": { WebSocket },
    },
    async dispose() {
      for (const t of timers.values()) (t.interval ? clearInterval : clearTimeout)(t.handle);
      port1.close();
      await worker.terminate();
    },
  };
}
