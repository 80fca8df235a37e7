import type { Scenario } from "k6/options";
import { envNumber, envString } from "./config.ts";

/**
 * Shared load profiles. Every scenario takes its sizes from the selected profile (PROFILE env, default smoke)
 * so "stress" means the same thing for the HTTP API as for WebSocket participants. Sizes are per test run;
 * with the k6-operator's `parallelism: N` each runner gets 1/N of the VUs and of the arrival rate.
 */
export type ProfileName = "smoke" | "average" | "stress" | "spike" | "soak";

export interface Profile {
  name: ProfileName;
  /** HTTP API iterations per second (create poll + join + results). */
  httpRate: number;
  httpVus: number;
  /** Stages of the arrival rate / participant count: [duration, target]. */
  stages: Array<{ duration: string; target: number }>;
  /** WebSocket participants at the top of the connection ramp. */
  participants: number;
  /** Seconds each WebSocket participant stays connected per iteration. */
  sessionSeconds: number;
  /** Participants voting at once in one room. */
  burstVoters: number;
  /** VUs measuring cross-instance latency, each with its own room. */
  crossVus: number;
  /** Votes per cross-instance iteration. */
  crossVotes: number;
  /** Whole-run duration for constant executors. */
  duration: string;
}

const PROFILES: Record<ProfileName, Omit<Profile, "name">> = {
  smoke: {
    httpRate: 1,
    httpVus: 1,
    stages: [{ duration: "5s", target: 1 }],
    participants: 1,
    sessionSeconds: 3,
    burstVoters: 1,
    crossVus: 1,
    crossVotes: 3,
    duration: "10s",
  },
  average: {
    httpRate: 200,
    httpVus: 50,
    stages: [
      { duration: "1m", target: 1 },
      { duration: "3m", target: 1 },
      { duration: "1m", target: 0 },
    ],
    participants: 2000,
    sessionSeconds: 60,
    burstVoters: 500,
    crossVus: 20,
    crossVotes: 20,
    duration: "5m",
  },
  stress: {
    httpRate: 1000,
    httpVus: 300,
    stages: [
      { duration: "2m", target: 0.5 },
      { duration: "3m", target: 1 },
      { duration: "3m", target: 1 },
      { duration: "1m", target: 0 },
    ],
    participants: 15000,
    sessionSeconds: 120,
    burstVoters: 3000,
    crossVus: 50,
    crossVotes: 20,
    duration: "10m",
  },
  spike: {
    httpRate: 2000,
    httpVus: 500,
    stages: [
      { duration: "30s", target: 0.05 },
      { duration: "10s", target: 1 },
      { duration: "1m", target: 1 },
      { duration: "10s", target: 0.05 },
      { duration: "1m", target: 0.05 },
    ],
    participants: 10000,
    sessionSeconds: 90,
    burstVoters: 5000,
    crossVus: 20,
    crossVotes: 20,
    duration: "3m",
  },
  soak: {
    httpRate: 100,
    httpVus: 30,
    stages: [
      { duration: "5m", target: 1 },
      { duration: "2h", target: 1 },
      { duration: "5m", target: 0 },
    ],
    participants: 2000,
    sessionSeconds: 600,
    burstVoters: 200,
    crossVus: 10,
    crossVotes: 50,
    duration: "2h",
  },
};

export function profileNames(): ProfileName[] {
  return Object.keys(PROFILES) as ProfileName[];
}

export function selectProfile(): Profile {
  const name = envString("PROFILE", "smoke") as ProfileName;
  const p = PROFILES[name];
  if (!p) throw new Error(`PROFILE must be one of ${profileNames().join(", ")}, got ${name}`);
  // SCALE shrinks or grows every size without inventing a new profile (e.g. SCALE=0.1 on a small cluster).
  const scale = envNumber("SCALE", 1);
  const s = (n: number) => Math.max(1, Math.round(n * scale));
  return {
    ...p,
    name,
    httpRate: s(p.httpRate),
    httpVus: s(p.httpVus),
    participants: s(p.participants),
    burstVoters: s(p.burstVoters),
    crossVus: s(p.crossVus),
  };
}

/** Stages are fractions of `peak`; k6 wants absolute targets. */
export function stagesOf(p: Profile, peak: number): Array<{ duration: string; target: number }> {
  return p.stages.map((st) => ({ duration: st.duration, target: Math.round(st.target * peak) }));
}

/** Open model for the HTTP API: a fixed rate for steady profiles, ramped only for spike. */
export function arrivalScenario(p: Profile, exec: string): Scenario {
  if (p.name === "spike") {
    return {
      executor: "ramping-arrival-rate",
      exec,
      startRate: 1,
      timeUnit: "1s",
      preAllocatedVUs: p.httpVus,
      maxVUs: p.httpVus * 4,
      stages: stagesOf(p, p.httpRate),
    };
  }
  return {
    executor: "constant-arrival-rate",
    exec,
    rate: p.httpRate,
    timeUnit: "1s",
    duration: p.duration,
    preAllocatedVUs: p.httpVus,
    maxVUs: p.httpVus * 4,
  };
}

/** Closed model for WebSocket participants: VUs are connections. */
export function rampingVusScenario(p: Profile, exec: string, peak: number): Scenario {
  return {
    executor: "ramping-vus",
    exec,
    startVUs: 0,
    stages: stagesOf(p, peak).map((st) => ({
      ...st,
      target: Math.max(st.target, p.name === "smoke" ? 1 : 0),
    })),
    gracefulRampDown: `${p.sessionSeconds + 10}s`,
    gracefulStop: `${p.sessionSeconds + 10}s`,
  };
}
