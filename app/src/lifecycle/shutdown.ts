import type { Logger } from "../logging/index.js";

export interface ShutdownStep {
  name: string;
  run(): Promise<void>;
}

export interface Lifecycle {
  readonly draining: boolean;
  /** Runs the shutdown once; later calls return the same promise. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Ordered graceful shutdown: turn unready at once, wait `delayMs` so load balancers stop sending traffic,
 * then run the steps (stop accepting, finish in-flight work, close pools) in order.
 */
export function createLifecycle({
  logger,
  delayMs = 0,
  steps,
}: {
  logger: Logger;
  delayMs?: number;
  steps: () => ShutdownStep[];
}): Lifecycle {
  let draining = false;
  let done: Promise<void> | undefined;
  return {
    get draining() {
      return draining;
    },
    shutdown(reason) {
      if (done) return done;
      draining = true;
      logger.info({ reason, delayMs }, "shutting down: readiness now 503");
      done = (async () => {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        for (const step of steps()) {
          const t = Date.now();
          try {
            await step.run();
            logger.info({ step: step.name, ms: Date.now() - t }, "shutdown step done");
          } catch (err) {
            logger.error({ step: step.name, err }, "shutdown step failed");
          }
        }
      })();
      return done;
    },
  };
}
