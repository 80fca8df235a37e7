import { Agent, request } from "node:http";
import { connectWsSio, now, type WsSioClient } from "../node/ws-client.js";
import { Histogram } from "./hist.js";

/**
 * A load-generator process, driven over IPC by the harness: holds raw WebSocket clients (the framing core
 * over `ws`, bound to its own 127.0.0.x source addresses) or drives HTTP voters. Timestamps are
 * performance.timeOrigin-based wall clock, comparable across the processes of one machine.
 */

interface Client {
  c: WsSioClient;
  inst: number;
  updates: Array<[total: number, seq: number, recvTs: number, counts: number[]]>;
  relays: Array<[k: number, recvTs: number]>;
}

const clients: Client[] = [];
let recording = false;
/** Counting only (the capacity anchor): vote-updates received, none kept, so 15,000 clients stay small. */
let tallying = false;
let tallied = 0;
let failedConnects = 0;

// biome-ignore lint/suspicious/noExplicitAny: IPC commands are plain JSON built by bench.ts.
type Msg = { id: number; cmd: string; [k: string]: any };
const send = (m: unknown) => process.send?.(m);

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/**
 * Opens m.count clients, m.concurrency at a time, each joining m.roomCode when given. With m.roomCodes instead,
 * client g (counting from m.indexOffset over all workers) connects to instance g mod urls and joins room
 * floor(g / urls) mod rooms: every room's members spread over every instance, as a load balancer spreads
 * them. Also reports when the first connect started and the last client was ready, and connect and join-ack
 * latencies (join storm).
 */
async function connect(m: Msg) {
  const started = now();
  const urls: string[] = m.urls;
  const addrs: string[] = m.localAddresses;
  const base = clients.length;
  const connectMs = new Histogram();
  const joinAckMs = new Histogram();
  let lastReadyAt = started;
  let firstError: string | undefined;
  await pool(m.count, m.concurrency ?? 100, async (i) => {
    const g = (m.indexOffset ?? 0) + base + i;
    const rooms: string[] | undefined = m.roomCodes;
    const inst = rooms ? g % urls.length : (m.instanceOffset ?? 0) + ((base + i) % urls.length);
    const roomCode: string | undefined = rooms
      ? rooms[Math.floor(g / urls.length) % rooms.length]
      : m.roomCode;
    const url = urls[inst % urls.length] as string;
    let c: WsSioClient | undefined;
    try {
      const connectStart = now();
      c = await connectWsSio(url, {
        localAddress: addrs[i % addrs.length] as string,
        timeoutMs: 30_000,
      });
      connectMs.add(now() - connectStart);
      const cl: Client = { c, inst: inst % urls.length, updates: [], relays: [] };
      c.on("vote-update", (u) => {
        if (tallying) tallied++;
        if (!recording) return;
        const x = u as { total: number; seq: number; counts: number[] };
        cl.updates.push([x.total, x.seq, now(), x.counts]);
      });
      c.on("relay", (p) => {
        if (recording) cl.relays.push([(p as { k: number }).k, now()]);
      });
      if (roomCode) {
        const r = await c.call<{ ok: boolean }>(
          "join-poll",
          { roomCode, nickname: `b${process.pid}-${base + i}` },
          30_000,
        );
        if (!r.ack.ok) throw new Error(`join failed ${JSON.stringify(r.ack)}`);
        joinAckMs.add(r.rttMs);
      }
      clients.push(cl);
      lastReadyAt = now();
    } catch (e) {
      failedConnects++;
      firstError ??= String((e as Error).message ?? e);
      c?.close();
    }
  });
  return {
    connected: clients.length - base,
    failed: failedConnects,
    ms: now() - started,
    startedAt: started,
    lastReadyAt,
    connectMs: connectMs.toSparse(),
    joinAckMs: joinAckMs.toSparse(),
    firstError,
  };
}

function openCount() {
  return clients.filter((c) => c.c.session.state === "connected").length;
}

/** Closed loop: every client votes again as soon as its previous vote is acknowledged. */
async function voteLoop(m: Msg) {
  const rtt: number[] = [];
  let errors = 0;
  const until = now() + m.durationMs;
  const startAt = now();
  await Promise.all(
    clients.map(async (cl, i) => {
      let k = i;
      while (now() < until) {
        try {
          const r = await cl.c.call<{ ok: boolean }>("submit-vote", { optionIndex: k++ % 2 }, 10_000);
          if (r.ack.ok) rtt.push(r.rttMs);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { rtt, errors, elapsedMs: now() - startAt };
}

/**
 * Open loop at a fixed rate over all clients (round-robin, or every m.stride-th client so that consecutive votes
 * land in different rooms), whatever the acks do. Latency runs from each vote's scheduled send time, so a stalled
 * server cannot hide its backlog (no coordinated omission).
 */
async function votePaced(m: Msg) {
  const rate: number = m.ratePerSec;
  const rtt: number[] = [];
  let errors = 0;
  let sent = 0;
  const startAt = now();
  const until = startAt + m.durationMs;
  const pending: Array<Promise<void>> = [];
  await new Promise<void>((done) => {
    const tick = () => {
      const t = now();
      const due = Math.min(
        Math.floor(((Math.min(t, until) - startAt) / 1000) * rate),
        Math.ceil((m.durationMs / 1000) * rate),
      );
      for (; sent < due; sent++) {
        const cl = clients[(sent * (m.stride ?? 1)) % clients.length] as Client;
        const scheduled = startAt + (sent / rate) * 1000;
        pending.push(
          cl.c
            // Each client's next vote flips its option: every vote is a real write, as in the closed loop.
            .call<{ ok: boolean }>(
              "submit-vote",
              { optionIndex: Math.floor(sent / clients.length) % 2 },
              10_000,
            )
            .then(
              (r) => {
                if (r.ack.ok) rtt.push(now() - scheduled);
                else errors++;
              },
              () => {
                errors++;
              },
            ),
        );
      }
      if (t >= until) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  return { rtt, errors, sent, elapsedMs: now() - startAt };
}

/**
 * Every client answers once, all at the same time: a single choice, or three different words of a 300-word
 * vocabulary (so entries repeat across participants, as in a real cloud).
 */
async function answerOnce(m: Msg) {
  const rtt: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const startedAt = now();
  let lastAckAt = startedAt;
  await Promise.all(
    clients.map(async (cl, i) => {
      const n = i + (m.offset ?? 0);
      const payload =
        m.kind === "wordcloud"
          ? { entries: [0, 1, 2].map((k) => `word${(n * 7 + k * 101) % 300}`) }
          : { optionIndex: n % 4 };
      try {
        const r = await cl.c.call<{ ok: boolean }>("submit-vote", payload, 30_000);
        if (r.ack.ok) {
          rtt.push(r.rttMs);
          lastAckAt = Math.max(lastAckAt, now());
        } else {
          errors++;
          firstError ??= JSON.stringify(r.ack);
        }
      } catch (e) {
        errors++;
        firstError ??= String((e as Error).message ?? e);
      }
    }),
  );
  return { rtt, errors, startedAt, lastAckAt, firstError };
}

/** HTTP voters: fresh participants created first, then votes at a fixed open-loop rate. */
async function httpVoters(m: Msg) {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const urls: string[] = m.urls;
  const call = (inst: number, method: string, path: string, body: unknown, token?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(urls[inst] as string);
      const data = JSON.stringify(body);
      const req = request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          method,
          path,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(data),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  const tokens: string[] = new Array(m.votes);
  await pool(m.votes, 64, async (i) => {
    const r = await call(i % urls.length, "POST", `/api/polls/${m.roomCode}/participants`, {
      nickname: `v${i}`,
    });
    if (r.status !== 201) throw new Error(`participant create ${r.status} ${r.body}`);
    tokens[i] = JSON.parse(r.body).participantToken;
  });
  send({ event: "voters-ready" });
  await new Promise<void>((r) => process.once("message", () => r()));
  const records: Array<[inst: number, emit: number, ack: number, ok: number]> = [];
  const start = now();
  const interval = 1000 / m.rate;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < m.votes; i++) {
    const due = start + i * interval;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const inst = i % urls.length;
    const emit = now();
    inflight.push(
      call(inst, "POST", `/api/polls/${m.roomCode}/votes`, { optionIndex: i % 4 }, tokens[i])
        .then((r) => {
          records.push([inst, emit, now(), r.status === 200 ? 1 : 0]);
        })
        .catch(() => {
          records.push([inst, emit, now(), 0]);
        }),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return { records, elapsedMs: now() - start };
}

/**
 * Vote→update latency at every observer of this process. Votes arrive as (emit, instance) in ack order; an
 * update with total T is taken to carry the first T acknowledged votes (commit order ≈ ack order).
 */
function fanoutStats(m: Msg) {
  const votes: Array<[emit: number, inst: number]> = m.votes;
  const same = new Histogram();
  const cross = new Histogram();
  let messages = 0;
  let negative = 0;
  const perClient: number[] = [];
  for (const cl of clients) {
    let prev = m.initialTotal ?? 0;
    let n = 0;
    for (const [total, , recv] of cl.updates) {
      if (recv < m.windowStart || recv > m.windowEnd) continue;
      n++;
      for (let r = prev; r < Math.min(total, votes.length); r++) {
        const v = votes[r] as [number, number];
        const lat = recv - v[0];
        if (lat < 0) negative++;
        (v[1] === cl.inst ? same : cross).add(lat);
      }
      if (total > prev) prev = total;
    }
    messages += n;
    perClient.push(n);
  }
  return {
    same: same.toSparse(),
    cross: cross.toSparse(),
    messages,
    clients: clients.length,
    perClient,
    negative,
  };
}

async function singleVotes(m: Msg) {
  const cl = clients[0];
  if (!cl) throw new Error("no voter client");
  const sent: Array<[k: number, option: number, emit: number, ackMs: number]> = [];
  for (let k = 0; k < m.votes; k++) {
    const option = k % 2;
    const emit = now();
    if (m.bare) {
      const r = await cl.c.call("relay", { k, roomCode: m.roomCode });
      sent.push([k, option, emit, r.rttMs]);
    } else {
      const r = await cl.c.call<{ ok: boolean }>("submit-vote", { optionIndex: option });
      if (!r.ack.ok) throw new Error(`vote failed ${JSON.stringify(r.ack)}`);
      sent.push([k, option, emit, r.rttMs]);
    }
    await new Promise((r) => setTimeout(r, m.gapMs));
  }
  return { sent };
}

const handlers: Record<string, (m: Msg) => unknown> = {
  connect,
  count: () => ({ open: openCount(), total: clients.length }),
  record: (m) => {
    recording = m.on;
    if (m.reset)
      for (const c of clients) {
        c.updates = [];
        c.relays = [];
      }
    return { recording };
  },
  tally: (m) => {
    const messages = tallied;
    tallying = m.on;
    tallied = 0;
    return { messages };
  },
  "vote-loop": voteLoop,
  "vote-paced": votePaced,
  "answer-once": answerOnce,
  "http-voters": httpVoters,
  "fanout-stats": fanoutStats,
  "single-votes": singleVotes,
  observations: () => ({
    clients: clients.map((c) => ({
      inst: c.inst,
      updates: c.updates.map((u) => [u[2], u[3]]),
      relays: c.relays,
    })),
  }),
  memory: () => process.memoryUsage(),
  messages: () => clients.reduce((a, c) => a + c.updates.length, 0),
  close: async () => {
    const n = clients.length;
    await Promise.all(
      clients.map((c) => {
        c.c.close();
        return Promise.race([c.c.closed, new Promise((r) => setTimeout(r, 2000))]);
      }),
    );
    clients.length = 0;
    failedConnects = 0;
    recording = false;
    tallying = false;
    return { closed: n };
  },
};

process.on("message", async (m: Msg) => {
  if (!m || typeof m.cmd !== "string") return;
  const h = handlers[m.cmd];
  try {
    if (!h) throw new Error(`unknown command ${m.cmd}`);
    send({ id: m.id, ok: true, result: await h(m) });
  } catch (e) {
    send({ id: m.id, ok: false, error: String((e as Error).stack ?? e) });
  }
});
// Never outlive the harness.
process.on("disconnect", () => process.exit(0));
