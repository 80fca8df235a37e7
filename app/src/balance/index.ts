/**
 * Self-healing connection balance. Long-lived WebSockets stay where they first landed, so a new or restarted
 * instance stays quiet while the old ones keep their crowds. Every instance publishes its connection count to a
 * shared board and reads its peers'; an instance above the fleet's mean closes a few participant connections per
 * interval (clients reconnect through the load balancer and re-join as themselves), until every instance is
 * within `tolerance` of the mean. It never sheds below the mean, never while draining, never faster than
 * `maxShedPerSecond`, and spreads its closes over the interval so the reconnects do not arrive as a herd.
 *
 * Peers' counts are up to one interval old. While a crowd is arriving (or leaving) every instance would look
 * busier than its peers' older figures and shed for nothing, so it sheds only when the fleet is steady: the same
 * instances as at the last tick and a total that moved less than the band since.

 */

/** Connection counts of live instances, shared through Redis. */
export interface LoadBoard {
  /** Publishes this instance's count; returns every live instance's (this one included). */
  exchange(connections: number): Promise<number[]>;
  /** Takes this instance off the board (draining, stopped): the others stop counting it. */
  leave(): Promise<void>;
}

/** A few connections more or less are not worth a reconnect. */
const MIN_BAND = 5;

export interface Rebalancer {
  close(): Promise<void>;
}

/** How many connections to shed now: half the excess over the mean, jittered, capped by the rate. */
export function shedCount({
  mine,
  fleet,
  tolerance,
  maxPerTick,
  minBand = MIN_BAND,
  random = Math.random,
}: {
  mine: number;
  fleet: number[];
  tolerance: number;
  maxPerTick: number;
  /** A few connections more or less are not worth a reconnect: the band is never narrower than this. */
  minBand?: number;
  random?: () => number;
}): number {
  if (fleet.length < 2) return 0;
  const mean = fleet.reduce((a, b) => a + b, 0) / fleet.length;
  const excess = Math.floor(mine - mean);
  if (excess < 1) return 0;
  const band = Math.max(tolerance * mean, minBand);
  // Shedding is what fills the quiet ones: instances above the mean keep shedding while any instance is outside
  // the band, below it included, so every instance ends within tolerance of the mean.
  const outside = mine - mean > band || fleet.some((n) => mean - n > band);
  if (!outside) return 0;
  const jittered = Math.ceil((excess / 2) * (0.5 + random() / 2));
  return Math.max(0, Math.min(jittered, excess, maxPerTick));
}

export function createRebalancer({
  board,
  connections,
  shed,
  isDraining,
  onShed,
  onDecision,
  tolerance = 0.05,
  maxShedPerSecond = 25,
  intervalMs = 2000,
  random = Math.random,
}: {
  board: LoadBoard;
  /** This instance's connections, the figure the fleet is balanced on. */
  connections: () => number;
  /** Closes one participant connection at random (a transport close); false when there is none to close. */
  shed: () => boolean;
  isDraining: () => boolean;
  onShed?: () => void;
  /** Each decision to shed, with what it was based on (logged). */
  onDecision?: (d: { connections: number; mean: number; fleet: number[]; shedding: number }) => void;
  tolerance?: number;
  maxShedPerSecond?: number;
  intervalMs?: number;
  random?: () => number;
}): Rebalancer {
  const pending = new Set<NodeJS.Timeout>();
  let previous: { size: number; total: number } | undefined;
  let closed = false;
  let left = false;
  const leave = async () => {
    if (left) return;
    left = true;
    await board.leave().catch(() => undefined);
  };

  const tick = async () => {
    if (closed) return;
    if (isDraining()) {
      for (const t of pending) clearTimeout(t);
      pending.clear();
      await leave();
      return;
    }
    const mine = connections();
    const fleet = await board.exchange(mine).catch(() => [] as number[]);
    if (closed || isDraining()) return;
    const total = fleet.reduce((a, b) => a + b, 0);
    const last = previous;
    previous = { size: fleet.length, total };
    const band = Math.max((tolerance * total) / Math.max(1, fleet.length), MIN_BAND);
    if (!last || last.size !== fleet.length || Math.abs(total - last.total) > band) return;
    const maxPerTick = Math.max(1, Math.floor((maxShedPerSecond * intervalMs) / 1000));
    const n = shedCount({ mine, fleet, tolerance, maxPerTick, random });
    if (n === 0) return;
    onDecision?.({
      connections: mine,
      mean: fleet.reduce((a, b) => a + b, 0) / fleet.length,
      fleet,
      shedding: n,
    });
    // Spread over the interval: the reconnects reach the load balancer as a trickle.
    for (let i = 0; i < n; i++) {
      const t = setTimeout(
        () => {
          pending.delete(t);
          if (!closed && !isDraining() && shed()) onShed?.();
        },
        random() * intervalMs * 0.8,
      );
      pending.add(t);
    }
  };

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick().finally(() => {
      running = false;
    });
  }, intervalMs);
  timer.unref();

  return {
    async close() {
      closed = true;
      clearInterval(timer);
      for (const t of pending) clearTimeout(t);
      pending.clear();
      await leave();
    },
  };
}
