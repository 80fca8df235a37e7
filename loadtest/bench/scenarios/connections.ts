import { setTimeout as sleep } from "node:timers/promises";
import { api } from "../../../test/zephyr.js";
import { newPoll, startBare, startZephyr, stopZephyrs } from "../instances.js";
import { log } from "../log.js";
import { bareHeap, cpuWatch, mb, rssBytes, zephyrHeap } from "../measure.js";
import { S } from "../options.js";
import { connectAcross, PER_WORKER, stopWorkers, takeWorker } from "../workers.js";

/** Participants held by one instance for a minute, and what each costs in memory, against bare socket.io. */

async function holdConnections(
  target: { url: string; pid: number; heap: () => Promise<number> },
  roomCode: string,
) {
  const nWorkers = Math.max(1, Math.ceil(S.connections / PER_WORKER));
  const workers = Array.from({ length: nWorkers }, takeWorker);
  await sleep(1500);
  const rss0 = rssBytes(target.pid);
  const heap0 = await target.heap();
  const t0 = performance.now();
  const connected = await connectAcross(workers, {
    urls: [target.url],
    total: S.connections,
    roomCode,
    concurrency: 100,
  });
  const connectSeconds = (performance.now() - t0) / 1000;
  await sleep(2000);
  const rss1 = rssBytes(target.pid);
  const heap1 = await target.heap();
  const opened = connected.reduce((a, c) => a + c.connected, 0);
  let minOpen = opened;
  const holdEnd = Date.now() + S.holdSeconds * 1000;
  // What held connections cost while nothing happens: heartbeats, presence, timers.
  const idleCpu = cpuWatch({ server: [target.pid] });
  let peakRss = rss1;
  while (Date.now() < holdEnd) {
    await sleep(Math.min(5000, Math.max(100, holdEnd - Date.now())));
    const open = (await Promise.all(workers.map((w) => w.call("count")))).reduce((a, c) => a + c.open, 0);
    minOpen = Math.min(minOpen, open);
    peakRss = Math.max(peakRss, rssBytes(target.pid));
  }
  const idleCorePct = idleCpu().serverCorePct;
  const clientMem = await Promise.all(workers.map((w) => w.call("memory")));
  await stopWorkers(workers);
  const held = minOpen;
  return {
    requested: S.connections,
    opened,
    failed: connected.reduce((a, c) => a + c.failed, 0),
    heldThroughout: held,
    holdSeconds: S.holdSeconds,
    connectSeconds: Math.round(connectSeconds * 10) / 10,
    joinsPerSec: Math.round(opened / connectSeconds),
    rssBeforeMB: mb(rss0),
    rssAfterMB: mb(rss1),
    peakRssMB: mb(peakRss),
    heapBeforeMB: mb(heap0),
    heapAfterMB: mb(heap1),
    rssPerConnKB: Math.round(((rss1 - rss0) / Math.max(1, opened) / 1024) * 10) / 10,
    idleCorePct,
    heapPerConnKB: Math.round(((heap1 - heap0) / Math.max(1, opened) / 1024) * 10) / 10,
    clientWorkers: nWorkers,
    clientRssMB: clientMem.map((m: { rss: number }) => mb(m.rss)),
  };
}

export async function benchConnections() {
  log(`connections: ${S.connections} participants held ${S.holdSeconds}s, Zephyr vs bare socket.io`);
  const zz = await startZephyr({}, "conn");
  const poll = await newPoll(zz.url);
  const zephyr = await holdConnections(
    { url: zz.url, pid: zz.child.pid as number, heap: () => zephyrHeap(zz.url) },
    poll.roomCode,
  );
  const health = (await api(zz.url, "/api/health")).body;
  const [profile] = await stopZephyrs([zz], "conn");
  const bare = await startBare(["socketio"]);
  const baseline = await holdConnections(
    { url: bare.url, pid: bare.pid, heap: () => bareHeap(bare.url) },
    "bench",
  );
  await bare.stop();
  return { zephyr, bareSocketIo: baseline, zephyrHealthAfterClose: health?.connections, profile };
}
