import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./paths.js";
import { freePort } from "./services.js";
import { requireTool } from "./tools.js";
import { waitFor } from "./zephyr.js";

/**
 * A real OCI registry on loopback: CNCF distribution's `registry` (the registry of Docker Hub's registry image),
 * built pinned by .ci/setup.d/52-registry.sh into bin/. Plain HTTP, no auth: podman pushes with
 * --tls-verify=false, helm with --plain-http.
 */

/** bin/registry, or undefined after the kit's skip-or-fail. */
export const requireRegistry = () =>
  requireTool(
    "registry",
    [join(BIN, "registry")],
    "run `bash .ci/setup` (its 52-registry.sh step builds the distribution registry into bin/)",
  );

export interface Registry {
  /** host:port as image references and oci:// URLs name it: `localhost:<port>` (see startRegistry). */
  host: string;
  /** Base URL for the HTTP API (`/v2/…`), on 127.0.0.1. */
  url: string;
  port: number;
  dir: string;
  child: ChildProcess;
  output(): string;
  /** The digest the registry serves for `name:reference` (Docker-Content-Digest), asked as any OCI or Docker manifest. */
  manifestDigest(name: string, reference: string): Promise<string>;
  /** The manifest the registry serves for `name:reference`, parsed, with its media type. */
  manifest(name: string, reference: string): Promise<{ mediaType: string; body: any }>;
  stop(): Promise<void>;
}

/** Every manifest type an image or a helm chart can be pushed as, so the registry never has to convert. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * The registry with a generated config and filesystem storage in a temp directory, listening on 127.0.0.1 at a free
 * port, once `/v2/` answers. The caller stops it (which removes the directory).
 */
export async function startRegistry(): Promise<Registry> {
  const bin = requireRegistry();
  if (!bin) throw new Error("registry not available: skip the test with skipIf(!requireRegistry())");
  const dir = mkdtempSync(join(tmpdir(), "zephyr-registry-"));
  const port = await freePort();
  // `localhost` rather than 127.0.0.1 in references: it is the name users give a local registry, and clients
  // (podman, helm) reach it over IPv4 because that is the only address the registry listens on.
  const host = `localhost:${port}`;
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      // Without a fixed secret the registry warns and makes one per start; a random one per run is the same, quietly.
      `  secret: ${randomBytes(16).toString("hex")}`,
      "",
    ].join("\n"),
  );
  const logFile = join(dir, "output.log");
  const fd = openSync(logFile, "a");
  const output = () => readFileSync(logFile, "utf8");
  // OTEL_TRACES_EXPORTER=none: the registry sets up OpenTelemetry tracing by default and would try to export.
  const child = spawn(bin, ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", fd, fd],
    env: { ...process.env, OTEL_TRACES_EXPORTER: "none" },
  });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error("exited");
        return (await fetch(`${url}/v2/`)).status === 200;
      },
      { what: `registry on ${port}`, timeoutMs: 30_000 },
    );
  } catch (e) {
    const log = output();
    await stop();
    throw new Error(`registry did not start: ${(e as Error).message}\n${log}`);
  }

  const get = async (name: string, reference: string) => {
    const r = await fetch(`${url}/v2/${name}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (r.status !== 200) throw new Error(`GET ${name}:${reference}: ${r.status} ${await r.text()}`);
    return r;
  };
  return {
    host,
    url,
    port,
    dir,
    child,
    output,
    async manifestDigest(name, reference) {
      return (await get(name, reference)).headers.get("docker-content-digest") ?? "";
    },
    async manifest(name, reference) {
      const r = await get(name, reference);
      return { mediaType: r.headers.get("content-type") ?? "", body: await r.json() };
    },
    stop,
  };
}
