import type { IO, ZSocket } from "./io.js";

/**
 * Closes the transport of one connection that is not a host screen, picked at random (a presenter's screen is not
 * moved to rebalance a crowd). The client sees "transport close", reconnects through the load balancer and
 * re-joins with its token. A pick walks the map to a random position: O(connections), a few dozen times per
 * rebalance interval at most.
 */
export function shedOne(io: IO): boolean {
  const sockets = io.of("/").sockets;
  if (sockets.size === 0) return false;
  for (let attempt = 0; attempt < 8; attempt++) {
    let skip = Math.floor(Math.random() * sockets.size);
    for (const s of sockets.values()) {
      if (skip-- > 0) continue;
      if (s.connected && s.data.role !== "host") {
        s.conn.close();
        return true;
      }
      break;
    }
  }
  return false;
}

/** Closes client transports in jittered batches over windowMs so clients reconnect elsewhere, not as a herd. */
export async function drainSockets(io: IO, windowMs: number): Promise<void> {
  const sockets = [...io.of("/").sockets.values()];
  if (sockets.length === 0) return;
  for (let i = sockets.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [sockets[i], sockets[j]] = [sockets[j] as ZSocket, sockets[i] as ZSocket];
  }
  const batches = Math.max(1, Math.min(20, Math.ceil(sockets.length / 50)));
  const per = Math.ceil(sockets.length / batches);
  const step = batches > 1 ? windowMs / batches : 0;
  for (let b = 0; b < batches; b++) {
    for (const s of sockets.slice(b * per, (b + 1) * per)) {
      // A transport close, not socket.disconnect(): the client sees "transport close" and reconnects by
      // itself, whereas a server-side disconnect tells it to stay away.
      if (s.connected) s.conn.close();
    }
    if (b < batches - 1) await new Promise((r) => setTimeout(r, step * (0.5 + Math.random())));
  }
}
