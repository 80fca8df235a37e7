import { join, resolve } from "node:path";

/**
 * Command line: `--quick` shrinks every size so CI can prove the harness still works in under a minute (its
 * numbers mean nothing), `--out <dir>` writes the report elsewhere, `--only <section>` runs one section,
 * `--profiles <dir>` keeps the instances' .cpuprofile files there (one folder per instance) for DevTools.
 */

export const HERE = import.meta.dirname;
export const REPO = resolve(HERE, "../..");

const argv = process.argv.slice(2);
const argAfter = (flag: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};

export const QUICK = argv.includes("--quick");
const out = argAfter("--out");
export const OUT = out ? resolve(out) : QUICK ? join(HERE, "results/quick") : HERE;
export const ONLY = argAfter("--only");
const profiles = argAfter("--profiles");
export const KEEP_PROFILES = profiles ? resolve(profiles) : undefined;

export const S = QUICK
  ? {
      httpSeconds: 1,
      httpConnections: 16,
      connections: 100,
      holdSeconds: 2,
      voteClients: 16,
      voteSeconds: 1,
      votePacedRate: 200,
      fanParticipants: 30,
      fanRate: 30,
      fanSeconds: 1,
      cmpParticipants: 15,
      cmpRate: 20,
      cmpSeconds: 1,
      observers: 6,
      singleVotes: 3,
      stormClients: 500,
      stormWorkers: 2,
      stormConcurrency: 100,
      stormRounds: 1,
      answerClients: 100,
      answerRounds: 1,
      roomsCount: 30,
      roomMembers: 2,
      roomVoters: 3,
      roomRate: 60,
      roomSeconds: 1,
      roomDeliveryProbe: 2000,
      capacityParticipants: 300,
      capacityRoomSize: 30,
      capacityAnswerWindowS: 10,
      capacitySeconds: 2,
      capacityIdleSeconds: 1,
      deadlineMs: 180_000,
    }
  : {
      httpSeconds: 10,
      httpConnections: 64,
      connections: 15_000,
      holdSeconds: 60,
      voteClients: 256,
      voteSeconds: 10,
      votePacedRate: 5000,
      fanParticipants: 5000,
      fanRate: 2000,
      fanSeconds: 10,
      cmpParticipants: 500,
      cmpRate: 200,
      cmpSeconds: 5,
      observers: 100,
      singleVotes: 30,
      stormClients: 5000,
      stormWorkers: 2,
      stormConcurrency: 100,
      stormRounds: 3,
      answerClients: 4000,
      answerRounds: 3,
      roomsCount: 30,
      roomMembers: 20,
      roomVoters: 20,
      roomRate: 600,
      roomSeconds: 10,
      roomDeliveryProbe: 50_000,
      // The largest crowd this machine holds: three client processes of 5,000 under the open-file limit,
      // rooms of 100, and a pace (one answer per participant in 200 s: ~7,000 vote-updates/s) the shared cores
      // deliver with acknowledgements well under a second; faster paces queue votes on this machine.
      capacityParticipants: 15_000,
      capacityRoomSize: 100,
      capacityAnswerWindowS: 200,
      capacitySeconds: 30,
      capacityIdleSeconds: 10,
      deadlineMs: 45 * 60_000,
    };
export type Sizes = typeof S;
