import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";
import { join } from "node:path";
import { QUICK, REPO, type Sizes } from "./options.js";

/** What a reader needs to judge the figures: the machine, how busy it was, and every version involved. */

function versionOf(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(REPO, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/** First line of a command's output, or "?" when the command is missing. */
export function firstLineOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n")[0] as string;
  } catch {
    return "?";
  }
}

export const loadAverage = (): string => firstLineOf("cat", ["/proc/loadavg"]);

export function runMeta(sizes: Sizes) {
  return {
    mode: QUICK ? "quick (sizes shrunk for CI; numbers are not meaningful)" : "full",
    date: new Date().toISOString(),
    machine: {
      nproc: cpus().length,
      cpuModel: cpus()[0]?.model ?? "?",
      memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      freeMemoryGBAtStart: Math.round((freemem() / 1024 ** 3) * 10) / 10,
      openFileLimit: firstLineOf("sh", ["-c", "ulimit -n"]),
      kernel: firstLineOf("uname", ["-r"]),
      loadAverageAtStart: loadAverage(),
    },
    versions: {
      node: process.version,
      zephyr: JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version,
      "socket.io": versionOf("socket.io"),
      "@socket.io/redis-adapter": versionOf("@socket.io/redis-adapter"),
      hono: versionOf("hono"),
      pg: versionOf("pg"),
      ioredis: versionOf("ioredis"),
      ws: versionOf("ws"),
      autocannon: versionOf("autocannon"),
      postgres: "",
      redis: firstLineOf("redis-server", ["--version"]),
    },
    sizes,
  };
}
