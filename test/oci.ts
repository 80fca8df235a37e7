import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { K8sObject } from "./helm.js";
import { REPO_ROOT } from "./paths.js";
import { findTool, skipOrFail } from "./tools.js";

/**
 * A real OCI engine for the image, Compose and registry tests: Debian's podman with the engine settings that
 * .ci/setup.d/60-podman.sh writes for this sandbox, and the stand-in Node.js base image that 61-node-base.sh builds
 * (no registry is reachable, so node:20-bookworm-slim cannot be pulled).
 */

const execFileAsync = promisify(execFile);
const CACHE = join(REPO_ROOT, ".cache/containers");
export const CONTAINERS_CONF = join(CACHE, "containers.conf");
/** The system trust store, passed as the extra_ca build secret: it holds any TLS-intercepting proxy's CA. */
const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/**
 * An image name of this checkout's own: podman's store is machine-wide, and two checkouts (a CI clone, a worktree)
 * building the same name at once would test each other's images.
 */
export function checkoutImage(name: string): string {
  return `localhost/zephyr-test-${CHECKOUT}/${name}`;
}
const CHECKOUT = createHash("sha256").update(REPO_ROOT).digest("hex").slice(0, 8);
/** A container name of this checkout's own, for the same reason as {@link checkoutImage}. */
export const checkoutContainer = (name: string) => `${name}-${CHECKOUT}`;

export const podmanEnv = (): NodeJS.ProcessEnv => ({ ...process.env, CONTAINERS_CONF });

/** podman, its settings and the stand-in base, or undefined after skipOrFail (a clear skip; a failure under CI). */
export function requirePodman(): { podman: string; nodeImage: string } | undefined {
  const podman = findTool("podman");
  if (!podman) return skipOrFail("required tool 'podman' not found", "run .ci/setup, which installs it");
  const nodeImageFile = join(CACHE, "node-image");
  if (!existsSync(CONTAINERS_CONF) || !existsSync(nodeImageFile))
    return skipOrFail(
      "podman's settings or the stand-in Node.js base image are missing",
      "run .ci/setup, whose 60-podman.sh and 61-node-base.sh make them",
    );
  return { podman, nodeImage: readFileSync(nodeImageFile, "utf8").trim() };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One podman command; never throws on a non-zero exit (the caller asserts on `code`, seeing stderr). */
export async function podman(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync("podman", args, {
      env: podmanEnv(),
      cwd: opts.cwd ?? REPO_ROOT,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      stdout: err.stdout ?? "",
      stderr: err.stderr || err.message,
    };
  }
}

/** Like {@link podman}, but throws with the command's stderr when it fails. */
export async function podmanOk(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await podman(args, opts);
  if (r.code !== 0) throw new Error(`podman ${args.join(" ")} failed (${r.code}):\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

export interface BuiltImage {
  tag: string;
  id: string;
  /** Bytes, as podman reports the image (all layers, base included). */
  size: number;
  log: string;
  ms: number;
}

/**
 * Builds a target of app/Dockerfile the way users do, through app/deploy/image.sh (`make image`), with podman,
 * the stand-in base and the system CA bundle as the extra_ca secret. Layers are cached by podman, so a second
 * build of an unchanged tree takes seconds. The image, Compose and release tests build the same image from parallel
 * test processes: a lock makes a build wait for the one under way and then hit its cache, rather than repeat it.
 */
export async function buildImage(
  target: "runtime" | "dev",
  tag: string,
  opts: { nodeImage: string; timeoutMs?: number },
): Promise<BuiltImage> {
  const started = Date.now();
  const args = ["app/deploy/image.sh", "--target", target, "--tag", tag, "--node-image", opts.nodeImage];
  if (existsSync(SYSTEM_CA_BUNDLE)) args.push("--extra-ca", SYSTEM_CA_BUNDLE);
  const log = await new Promise<string>((resolve, reject) => {
    const child = spawn("flock", [join(CACHE, "build.lock"), "bash", ...args], {
      cwd: REPO_ROOT,
      env: { ...podmanEnv(), ZEPHYR_ENGINE: "podman" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 600_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`image build (${target}) failed with ${code}:\n${out.slice(-6000)}`));
    });
  });
  const [id = "", size = "0"] = (await podmanOk(["image", "inspect", tag, "--format", "{{.Id}} {{.Size}}"]))
    .trim()
    .split(" ");
  return { tag, id, size: Number(size), log, ms: Date.now() - started };
}

export async function imageSize(ref: string): Promise<number> {
  return Number((await podmanOk(["image", "inspect", ref, "--format", "{{.Size}}"])).trim());
}

/**
 * `podman run` flags for the pod spec of a rendered Deployment's container: the user and group, a read-only root
 * with only the pod's emptyDir volumes writable (as tmpfs), dropped capabilities, no privilege escalation and the
 * runtime's default seccomp profile. Anything in the spec this cannot reproduce throws, so a chart change that
 * would make the container run differently from this test fails here instead of going unnoticed.
 */
export function podmanSecurityFlags(pod: K8sObject, container: K8sObject): string[] {
  const podSc = (pod.securityContext ?? {}) as Record<string, any>;
  const sc = { ...podSc, ...(container.securityContext ?? {}) } as Record<string, any>;
  const flags: string[] = [];
  if (sc.runAsUser === undefined) throw new Error("the chart sets no runAsUser");
  flags.push("--user", `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  // podman's --read-only also mounts tmpfs at /tmp, /var/tmp and /run unless told not to; Kubernetes does not.
  flags.push(`--read-only=${sc.readOnlyRootFilesystem === true}`, "--read-only-tmpfs=false");
  for (const cap of sc.capabilities?.drop ?? []) flags.push("--cap-drop", cap);
  for (const cap of sc.capabilities?.add ?? []) flags.push("--cap-add", cap);
  if (sc.allowPrivilegeEscalation === false) flags.push("--security-opt", "no-new-privileges");
  if (sc.privileged) throw new Error("privileged containers are not reproduced");
  const seccomp = sc.seccompProfile?.type;
  if (seccomp && seccomp !== "RuntimeDefault")
    throw new Error(`seccomp profile ${seccomp} is not reproduced`);
  const volumes = new Map(((pod.volumes ?? []) as K8sObject[]).map((v) => [v.name as string, v]));
  for (const mount of (container.volumeMounts ?? []) as K8sObject[]) {
    const volume = volumes.get(mount.name);
    if (!volume?.emptyDir) throw new Error(`volume ${mount.name} is not an emptyDir: not reproduced`);
    // World-writable like the directory the kubelet makes for an emptyDir.
    flags.push("--mount", `type=tmpfs,destination=${mount.mountPath},tmpfs-mode=1777`);
  }
  return flags;
}

/**
 * The image started as a rendered pod's container: its security settings ({@link podmanSecurityFlags}), its args and
 * the given environment. The container shares the host's network only so that it reaches the test's PostgreSQL and
 * Redis on loopback.
 */
export function runPodContainer(
  name: string,
  image: string,
  { pod, container }: { pod: K8sObject; container: K8sObject },
  env: Record<string, string>,
): Promise<Container> {
  const envFlags = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  return runContainer(
    name,
    [...podmanSecurityFlags(pod, container), "--network", "host", ...envFlags],
    image,
    (container.args ?? []) as string[],
  );
}

export interface Container {
  name: string;
  logs(): Promise<string>;
  /** `podman stop` (SIGTERM, then SIGKILL after the grace period); resolves the exit code. */
  stop(graceSeconds: number): Promise<number>;
  remove(): Promise<void>;
}

/** `podman run -d`; the container is removed by {@link Container.remove} (tests call it in afterAll). */
export async function runContainer(
  name: string,
  flags: string[],
  image: string,
  cmd: string[] = [],
): Promise<Container> {
  await podman(["rm", "-f", "--ignore", name]);
  await podmanOk(["run", "-d", "--name", name, ...flags, image, ...cmd]);
  return {
    name,
    logs: async () => {
      const r = await podman(["logs", name]);
      return r.stdout + r.stderr;
    },
    stop: async (graceSeconds) => {
      await podmanOk(["stop", "--time", String(graceSeconds), name], {
        timeoutMs: (graceSeconds + 30) * 1000,
      });
      return Number((await podmanOk(["inspect", name, "--format", "{{.State.ExitCode}}"])).trim());
    },
    remove: async () => {
      await podman(["rm", "-f", "--ignore", "--time", "0", name]);
    },
  };
}
