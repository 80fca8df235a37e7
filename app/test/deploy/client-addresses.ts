import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { promisify } from "node:util";
import { findTool, skipOrFail } from "../../../test/tools.js";

/**
 * Client source addresses in distinct /24 networks for tests of nginx in front of containers that need nginx to
 * see each client's own address (X-Forwarded-For, per-client limits). Loopback clients do not do: podman masquerades connections from 127.0.0.1 to a
 * published port, so nginx sees every one of them as the bridge's gateway. Addresses on a host interface do:
 * a connection from one of them to a local address is DNAT'ed by netavark to the container unchanged, so nginx sees
 * the client's own address. They sit on one end of a veth pair made for the test (this kernel has no dummy
 * interfaces) as /32s from 198.18.0.0/15 (RFC 2544, benchmarking: routed nowhere), so deleting the pair removes
 * every address and route at once.
 */

const run = promisify(execFile);

export interface ClientAddresses {
  /** The client source addresses, one per /24. */
  sources: string[];
  /** A local, non-loopback address to connect to (a published port answers on every local address). */
  target: string;
  remove(): Promise<void>;
}

/** `ip` and the right to add interfaces (root), or undefined after skipOrFail. */
export function requireClientAddresses(): string | undefined {
  const ip = findTool("ip", ["/usr/sbin/ip", "/sbin/ip"]);
  if (!ip) return skipOrFail("required tool 'ip' (iproute2) not found", "apt-get install iproute2");
  if (process.getuid?.() !== 0)
    return skipOrFail(
      "adding client addresses needs root (CAP_NET_ADMIN)",
      "run the test as root, as CI does",
    );
  return ip;
}

/** Adds `count` source addresses in distinct, randomly placed /24s (so concurrent runs do not share them). */
export async function addClientAddresses(ip: string, count: number): Promise<ClientAddresses> {
  if (count > 500) throw new Error("198.18.0.0/15 has 512 /24 networks");
  const link = `zc${randomBytes(4).toString("hex")}`;
  const start = randomInt(0, 512);
  const net = (i: number) => {
    const n = (start + i) % 512;
    return `198.${18 + (n >> 8)}.${n & 255}`;
  };
  const sources = Array.from({ length: count }, (_, i) => `${net(i)}.1`);
  const target = `${net(0)}.254`;
  const remove = async () => {
    await run(ip, ["link", "del", link]).catch(() => undefined);
  };
  try {
    await run(ip, ["link", "add", link, "type", "veth", "peer", "name", `${link}p`]);
    // One batch: dozens of `ip addr add` processes would take seconds on a loaded machine.
    const batch = [
      `link set ${link} up`,
      `link set ${link}p up`,
      ...[...sources, target].map((a) => `addr add ${a}/32 dev ${link}`),
    ].join("\n");
    await new Promise<void>((resolve, reject) => {
      const child = execFile(ip, ["-batch", "-"], (err) => (err ? reject(err) : resolve()));
      child.stdin?.end(`${batch}\n`);
    });
  } catch (e) {
    await remove();
    throw e;
  }
  return { sources, target, remove };
}
