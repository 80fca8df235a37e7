/**
 * A real Prometheus (Debian's package) for a test: scraping the given targets every second with the labels a
 * ServiceMonitor gives Zephyr's pods, and an instant-query client.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { JOB_VALUE } from "./alert-rules.js";
import { freePort } from "./services.js";
import { requireTool } from "./tools.js";
import { waitFor } from "./zephyr.js";

export const prometheusBin = requireTool(
  "prometheus",
  ["/usr/bin/prometheus"],
  "run .ci/setup, which installs the prometheus package",
);

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  url: string;
  query(expr: string): Promise<PromSample[]>;
  /** Replaces the scrape targets (pods come and go); Prometheus reads the file again within a second or two. */
  setTargets(targets: PodTarget[]): void;
  stop(): Promise<void>;
}

/** One scrape target: an address and the pod it stands in for. */
export interface PodTarget {
  address: string;
  namespace: string;
  pod: string;
}

export async function startPrometheus(dir: string, targets: PodTarget[]): Promise<Prometheus> {
  if (!prometheusBin) throw new Error("prometheus missing");
  const targetsFile = join(dir, "zephyr-targets.json");
  // The labels a ServiceMonitor produces: job, namespace, pod, container, service (instance = address).
  const setTargets = (list: PodTarget[]) => {
    const next = `${targetsFile}.next`;
    writeFileSync(
      next,
      JSON.stringify(
        list.map((t) => ({
          targets: [t.address],
          labels: { namespace: t.namespace, pod: t.pod, container: "zephyr", service: "zephyr" },
        })),
      ),
    );
    // A rename is atomic: Prometheus never reads a half-written file.
    renameSync(next, targetsFile);
  };
  setTargets(targets);
  writeFileSync(
    join(dir, "prometheus.yml"),
    stringify({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      scrape_configs: [
        { job_name: JOB_VALUE, file_sd_configs: [{ files: [targetsFile], refresh_interval: "1s" }] },
      ],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn(
    prometheusBin,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "prometheus-data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const exited = new Promise((r) => child.once("exit", r));
  await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, {
    timeoutMs: 30_000,
    what: "Prometheus ready",
  }).catch((e) => {
    child.kill("SIGKILL");
    throw new Error(`${e}\n${log}`);
  });
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
      if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
      return body.data?.result ?? [];
    },
    setTargets,
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
