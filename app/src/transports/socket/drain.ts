import type { IO, ZSocket } from "./io.js";

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
