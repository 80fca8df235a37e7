import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { podman, podmanEnv, podmanOk, requirePodman } from "../../../test/oci.js";
import { BIN, REPO_ROOT } from "../../../test/paths.js";
import { findTool, skipOrFail } from "../../../test/tools.js";

/**
 * The repository's docker-compose.yml run by a real compose implementation: podman-compose 1.6 (installed by
 * .ci/setup.d/62-compose.sh into a venv, linked as bin/podman-compose) on podman, with the test-only override
 * test/compose/podman-override.yml. Used by compose-run.test.ts.
 */

const execFileAsync = promisify(execFile);
export const COMPOSE_FILES = ["docker-compose.yml", "test/compose/podman-override.yml"];
type Upstream = "postgres" | "redis" | "nginx";

export interface ComposeTools {
  podmanCompose: string;
  nodeImage: string;
  /** The stand-in images 62-compose.sh built from Debian's packages, by service. */
  images: Record<Upstream, string>;
}

/** podman, podman-compose and the stand-in images, or undefined after skipOrFail (a skip; a failure under CI). */
export function requirePodmanCompose(): ComposeTools | undefined {
  const engine = requirePodman();
  if (!engine) return undefined;
  const podmanCompose = findTool("podman-compose", [join(BIN, "podman-compose")]);
  const listFile = join(REPO_ROOT, ".cache/containers/compose-images");
  if (!podmanCompose || !existsSync(listFile))
    return skipOrFail(
      "podman-compose or the stand-in PostgreSQL, Redis and nginx images are missing",
      "run .ci/setup, whose 62-compose.sh installs and builds them",
    );
  const images = Object.fromEntries(
    readFileSync(listFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  ) as Record<Upstream, string>;
  return { podmanCompose, nodeImage: engine.nodeImage, images };
}

export interface ComposeProject {
  name: string;
  /** podman-compose with the project's files, name and environment; throws with its output on failure. */
  compose(args: string[], timeoutMs?: number): Promise<string>;
  /** The container podman-compose made for a service (`<project>_<service>_1`), found by its labels. */
  container(service: string): Promise<string>;
  /**
   * Runs the service's own compose health check (`podman healthcheck run`: podman has no systemd here to run it on
   * its interval) until it passes; resolves the milliseconds it took.
   */
  waitHealthy(service: string, timeoutMs: number): Promise<number>;
  /**
   * Gives the project network's bridge a MAC address of its own (the one it has now), as netavark 1.9 and Docker do
   * themselves. Without one the kernel gives a bridge its lowest port's MAC, so stopping the container that owned
   * it changes the bridge's MAC under every other container's ARP cache: their packets to the host (nginx's
   * replies to clients) go to the old MAC and are dropped for up to tens of seconds (containers/netavark#833; the
   * netavark 1.4 of Debian 12 lacks the fix). Needs root (`ip`); call once the network exists.
   */
  pinBridgeMac(ip: string): Promise<string>;
  /** `down -v`, then anything labelled with the project that is still there: containers, volumes, network. */
  destroy(): Promise<void>;
}

export function composeProject(
  tools: ComposeTools,
  name: string,
  env: Record<string, string>,
): ComposeProject {
  // --env-file /dev/null: a developer's .env (their passwords, their port) must not leak into the test's run.
  const globalArgs = ["-p", name, "--env-file", "/dev/null", ...COMPOSE_FILES.flatMap((f) => ["-f", f])];
  const label = `io.podman.compose.project=${name}`;
  const compose = async (args: string[], timeoutMs = 180_000) => {
    try {
      const { stdout, stderr } = await execFileAsync(tools.podmanCompose, [...globalArgs, ...args], {
        cwd: REPO_ROOT,
        env: { ...podmanEnv(), ...env },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout + stderr;
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      const output = (err.stdout ?? "") + (err.stderr ?? "");
      throw new Error(`podman-compose ${args.join(" ")} failed: ${err.message}\n${output.slice(-6000)}`);
    }
  };
  const container = async (service: string) => {
    const out = await podmanOk([
      "ps",
      "-a",
      "--filter",
      `label=${label}`,
      "--filter",
      `label=io.podman.compose.service=${service}`,
      "--format",
      "{{.Names}}",
    ]);
    const names = out.trim().split("\n").filter(Boolean);
    if (names.length !== 1)
      throw new Error(`expected one container for ${service}, found: ${names.join(", ")}`);
    return names[0] as string;
  };
  return {
    name,
    compose,
    container,
    async waitHealthy(service, timeoutMs) {
      const ctr = await container(service);
      const started = Date.now();
      let last = "";
      while (Date.now() - started < timeoutMs) {
        const r = await podman(["healthcheck", "run", ctr], { timeoutMs: 30_000 });
        if (r.code === 0) return Date.now() - started;
        last = (r.stdout + r.stderr).trim();
        await new Promise((res) => setTimeout(res, 500));
      }
      const logs = await podman(["logs", "--tail", "30", ctr]);
      throw new Error(
        `${service} not healthy within ${timeoutMs} ms (last check: ${last})\n${logs.stdout}${logs.stderr}`,
      );
    },
    async pinBridgeMac(ip) {
      const [network] = JSON.parse(await podmanOk(["network", "inspect", `${name}_default`])) as Array<{
        network_interface?: string;
      }>;
      const bridge = network?.network_interface;
      if (!bridge) throw new Error(`network ${name}_default has no bridge interface`);
      const mac = readFileSync(`/sys/class/net/${bridge}/address`, "utf8").trim();
      await execFileAsync(ip, ["link", "set", "dev", bridge, "address", mac]);
      const assigned = readFileSync(`/sys/class/net/${bridge}/addr_assign_type`, "utf8").trim();
      // 3 is NET_ADDR_SET: the kernel no longer recomputes the bridge's MAC from its ports.
      if (assigned !== "3") throw new Error(`${bridge}: MAC not pinned (addr_assign_type ${assigned})`);
      return `${bridge} ${mac}`;
    },
    async destroy() {
      await compose(["down", "-v", "-t", "2"], 120_000).catch((e) => console.warn(String(e)));
      // Belt and braces for a half-started project (podman-compose only removes what its files still describe).
      const ids = (await podman(["ps", "-a", "-q", "--filter", `label=${label}`])).stdout
        .split("\n")
        .filter(Boolean);
      if (ids.length) await podman(["rm", "-f", "-v", "--time", "0", ...ids]);
      const volumes = (await podman(["volume", "ls", "-q", "--filter", `label=${label}`])).stdout
        .split("\n")
        .filter(Boolean);
      if (volumes.length) await podman(["volume", "rm", "-f", ...volumes]);
      await podman(["network", "rm", "-f", `${name}_default`]);
    },
  };
}
