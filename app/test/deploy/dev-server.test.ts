/**
 * `npm run dev` as a developer runs it: the service under tsx watch and Vite's dev server in front of it, both
 * from the repository's sources. The pages come from Vite with its hot-reload client, and the API and the
 * Socket.IO WebSocket reach the service through Vite's proxy, from the pages' one origin.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { io } from "socket.io-client";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../test/paths.js";
import { freePort } from "../../../test/services.js";
import { call } from "../../../test/sockets.js";
import { api, waitFor } from "../../../test/zephyr.js";

let child: ChildProcess | undefined;
let out = "";
afterAll(() => {
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
});

describe("npm run dev", () => {
  it("serves the pages with hot reload and proxies the API and the socket to the service", async () => {
    const [apiPort, webPort] = [await freePort(), await freePort()];
    child = spawn("npm", ["run", "--silent", "dev"], {
      cwd: REPO_ROOT,
      detached: true,
      env: {
        ...process.env,
        PORT: String(apiPort),
        HOST: "127.0.0.1",
        ZEPHYR_API_ORIGIN: `http://127.0.0.1:${apiPort}`,
        ZEPHYR_WEB_PORT: String(webPort),
        SHUTDOWN_DELAY_MS: "0",
        DRAIN_WINDOW_MS: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const web = `http://127.0.0.1:${webPort}`;
    await waitFor(async () => (await api(web, "/api/health/live")).status === 200, {
      timeoutMs: 90_000,
      what: `the service through Vite's proxy\n${out}`,
    });

    const html = await (await fetch(`${web}/j/ABCDEF`)).text();
    expect(html).toContain("/@vite/client");
    const entry = await fetch(`${web}/src/main.tsx`);
    expect(entry.headers.get("content-type")).toMatch(/javascript/);
    // prefresh: components keep their state across an edit.
    expect(await (await fetch(`${web}/src/pages/audience.tsx`)).text()).toMatch(/prefresh/i);

    const poll = (await api(web, "/api/polls", { body: { question: "Dev?", options: ["yes", "no"] } })).body;
    const socket = io(web, { transports: ["websocket"], forceNew: true });
    try {
      const joined = await call(socket, "join-poll", { roomCode: poll.roomCode, nickname: "dev" });
      expect(joined.ok).toBe(true);
    } finally {
      socket.disconnect();
    }
  }, 150_000);
});
