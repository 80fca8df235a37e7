import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  buildImage,
  type Container,
  checkoutContainer,
  checkoutImage,
  podmanEnv,
  requirePodman,
  runPodContainer,
} from "../../../test/oci.js";
import { REPO_ROOT } from "../../../test/paths.js";
import { createDatabase, freePort, requireServices } from "../../../test/services.js";
import { waitFor } from "../../../test/zephyr.js";
import { type Json, readYaml, renderServerPod } from "./support.js";

/**
 * The skaffold dev loop without a cluster: app/Dockerfile's `dev` target built by podman, started with the pod
 * settings the chart renders under skaffold's dev profile, then edited source files streamed into the running
 * container where skaffold's sync rules put them (skaffold pipes a tar archive through `kubectl exec`; `podman exec`
 * is the same path here). The new code must run shortly after, with no image rebuild.
 */

const oci = requirePodman();
const hasServices = requireServices("postgres", "redis");
const pgUrl = inject("postgresUrl");
const redisUrl = inject("redisUrl");

const TAG = checkoutImage("zephyr:dev");
const skaffold = readYaml("skaffold.yaml");
const devProfile = (skaffold.profiles as Json[]).find((p) => p.name === "dev") as Json;
const syncRules = devProfile.build.artifacts[0].sync.manual as Array<{
  src: string;
  dest: string;
  strip?: string;
}>;
const devSetValues = Object.entries(
  devProfile.deploy.helm.releases[0].setValues as Record<string, string>,
).map(([k, v]) => `${k}=${v}`);

/** Where skaffold's sync puts an edited repo file in the container: the first rule whose glob base holds it. */
function syncedPath(rel: string): string {
  const rule = syncRules.find((r) => rel.startsWith(r.src.replace(/\*\*$/, "")));
  if (!rule) throw new Error(`no sync rule for ${rel}`);
  const stripped = rule.strip && rel.startsWith(rule.strip) ? rel.slice(rule.strip.length) : rel;
  return posix.join(rule.dest, stripped);
}

/** Writes a file into the running container as its user, through exec like skaffold's sync. */
function syncInto(container: string, path: string, content: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("podman", ["exec", "-i", container, "sh", "-c", 'cat > "$1"', "sh", path], {
      env: podmanEnv(),
      stdio: ["pipe", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`sync of ${path} failed: ${err}`)),
    );
    child.stdin.end(content);
  });
}

describe.skipIf(!oci || !hasServices)(
  "dev image: synced sources are recompiled and the server restarted",
  () => {
    let ctr: Container | undefined;

    beforeAll(async () => {
      const image = await buildImage("dev", TAG, { nodeImage: oci!.nodeImage });
      console.info(`dev image built in ${image.ms} ms`);
    }, 900_000);

    afterAll(async () => {
      await ctr?.remove();
    });

    it("starts under the dev profile's pod settings and reloads an edited server and page source", async () => {
      const server = await renderServerPod([], devSetValues);
      expect(server.container.securityContext.readOnlyRootFilesystem, "sync needs a writable tree").toBe(
        false,
      );
      const port = await freePort();
      // The dev profile's in-cluster PostgreSQL and Redis are the test's servers here.
      const { DB_HOST: _db, REDIS_HOST: _redis, ...config } = server.config;
      ctr = await runPodContainer(checkoutContainer("zephyr-dev-image-test"), TAG, server, {
        ...config,
        DATABASE_URL: await createDatabase(pgUrl!, "devimage"),
        REDIS_URL: redisUrl!,
        PORT: String(port),
        HOST: "127.0.0.1",
      });
      const running = ctr;
      const base = `http://127.0.0.1:${port}`;
      const live = async () => (await fetch(`${base}/api/health/live`)).status === 200;
      await waitFor(live, { timeoutMs: 60_000, what: "dev server" });
      await waitFor(async () => (await running.logs()).includes("Watching for file changes"), {
        timeoutMs: 60_000,
        what: "tsc --watch",
      });
      // The build info from the image build lets the watcher start without re-emitting, so no restart yet.
      const startLogs = await running.logs();
      expect(startLogs, startLogs).not.toMatch(/Restarting/);
      expect(startLogs).toContain("Found 0 errors");

      // What skaffold's sync rule does with an edited app/src/main.ts: the same path under its dest.
      const marker = `hot-reload-${Date.now().toString(36)}`;
      const mainTs = readFileSync(join(REPO_ROOT, "app/src/main.ts"), "utf8");
      await syncInto(running.name, syncedPath("app/src/main.ts"), `${mainTs}\nconsole.log("${marker}");\n`);
      await waitFor(async () => (await running.logs()).includes(marker), {
        timeoutMs: 60_000,
        what: "a restart running the edited file",
      });
      expect(await running.logs()).toMatch(/Restarting/);
      await waitFor(live, { timeoutMs: 60_000, what: "dev server after the restart" });

      // An edited page source: vite build --watch rebuilds the pages, and the next load of the page shows the edit.
      const restarts = (await running.logs()).split("Restarting").length;
      const pageMarker = `page-reload-${Date.now().toString(36)}`;
      const catalogue = readFileSync(join(REPO_ROOT, "app/web/src/i18n/en.ts"), "utf8");
      expect(catalogue).toContain("Live polls for talks, classes and meetings");
      await syncInto(
        running.name,
        syncedPath("app/web/src/i18n/en.ts"),
        catalogue.replace("Live polls for talks, classes and meetings", pageMarker),
      );
      await waitFor(
        async () => {
          const html = await (await fetch(`${base}/`)).text();
          const entry = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
          return entry !== undefined && (await (await fetch(`${base}${entry}`)).text()).includes(pageMarker);
        },
        { timeoutMs: 60_000, what: "the page rebuilt with the edit" },
      );
      expect(
        (await running.logs()).split("Restarting").length,
        "a page edit does not restart the server",
      ).toBe(restarts);
    }, 240_000);
  },
);
