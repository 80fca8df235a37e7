import { check } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearTimeout, setTimeout } from "k6/timers";
import { INSTANCE_URLS } from "../lib/config.ts";
import { selectProfile } from "../lib/profiles.ts";
import { connectSocketIo } from "../lib/socketio.ts";
import { summaryHandler } from "../lib/summary.ts";
import { createPresentation, firstAck, getResults, type JoinData, type LiveResults } from "../lib/zephyr.ts";

/**
 * A room answers a word cloud at once: every VU joins (spread over INSTANCE_URLS), submits two entries and stays
 * until it has been pushed the final cloud. Entries are typed in mixed case with stray spaces, so the counts
 * are only exact if the service normalises them; the expected cloud is computed here from the VU numbers.
 */

const profile = selectProfile();
const entryAck = new Trend("zephyr_wordcloud_ack_duration", true);
const entryErrors = new Rate("zephyr_wordcloud_errors");
const entriesAcked = new Counter("zephyr_wordcloud_entries_acked");
const exactFinal = new Rate("zephyr_final_words_exact");
const FINAL_WAIT_MS = 30_000;
const WORDS = ["rocket", "team spirit", "coffee", "ship it", "café", "🚀", "straße"];

export const options: Options = {
  scenarios: {
    wordcloud_burst: {
      executor: "per-vu-iterations",
      exec: "participant",
      vus: profile.burstVoters,
      iterations: 1,
      maxDuration: "2m",
    },
  },
  thresholds: {
    zephyr_wordcloud_ack_duration: ["p(95)<150"],
    zephyr_wordcloud_errors: ["rate<0.01"],
    zephyr_final_words_exact: ["rate==1"],
    checks: ["rate>0.99"],
  },
};

/** What VU `vu` types: two different words, capitalised and padded differently per VU. */
function entriesOf(vu: number): string[] {
  const a = WORDS[vu % WORDS.length] as string;
  const b = WORDS[(vu * 3 + 1) % WORDS.length] as string;
  const typed = (w: string) => (vu % 2 ? ` ${w.toUpperCase()}  ` : w.replace(" ", "  "));
  return a === b ? [typed(a)] : [typed(a), typed(b)];
}

/** The cloud every VU's entries make, as the service must count it (straße upper-cases to STRASSE). */
function expectedWords(voters: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let vu = 1; vu <= voters; vu++)
    for (const typed of entriesOf(vu)) {
      const word = typed.trim().replace(/\s+/g, " ").toUpperCase().toLowerCase();
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  return counts;
}

function sameWords(
  got: Array<{ text: string; count: number }> | undefined,
  want: Map<string, number>,
): boolean {
  return Array.isArray(got) && got.length === want.size && got.every((w) => want.get(w.text) === w.count);
}

interface Data {
  roomCode: string;
  voters: number;
}

export function setup(): Data {
  const poll = createPresentation({
    questions: [{ type: "wordcloud", text: "One word for this talk", maxEntries: 2 }],
  });
  if (!poll) throw new Error("setup could not create the word cloud");
  return { roomCode: poll.roomCode, voters: profile.burstVoters };
}

export function participant(data: Data): void {
  const want = expectedWords(data.voters);
  const url = INSTANCE_URLS[(__VU - 1) % INSTANCE_URLS.length] as string;
  let acked = false;
  let finished = false;
  let final: LiveResults | undefined;
  const io = connectSocketIo(url, {
    onConnect(client) {
      client.session.on("vote-update", (...args: unknown[]) => {
        const u = args[0] as LiveResults;
        if (u.total >= data.voters && !final) final = u;
        maybeFinish();
      });
      client.emit("join-poll", { roomCode: data.roomCode, nickname: `cloud-${__VU}` }, (err, args) => {
        const join = firstAck<JoinData>(args);
        if (!check(join, { "join-poll ok": (a) => !err && a.ok })) return abort();
        const entries = entriesOf(__VU);
        client.emit("submit-vote", { entries }, (verr, vargs, rtt) => {
          const ack = firstAck<{ entries: string[] }>(vargs);
          const ok = check(ack, {
            "entries acknowledged durable, normalised": (a) =>
              !verr &&
              a.ok &&
              a.data?.entries.length === entries.length &&
              a.data.entries.every((e) => want.has(e)),
          });
          entryErrors.add(!ok);
          if (!ok) return abort();
          acked = true;
          entryAck.add(rtt);
          entriesAcked.add(entries.length);
          maybeFinish();
        });
      });
    },
    onError: () => abort(),
  });
  const guard = setTimeout(() => abort(), FINAL_WAIT_MS);

  function maybeFinish() {
    if (finished || !final || !acked) return;
    finished = true;
    clearTimeout(guard);
    exactFinal.add(check(final, { "pushed final cloud is exact": (r) => sameWords(r.words, want) }));
    io.close();
  }
  function abort() {
    if (finished) return;
    finished = true;
    clearTimeout(guard);
    exactFinal.add(false);
    io.close();
  }
}

export function teardown(data: Data): void {
  const r = getResults(data.roomCode);
  exactFinal.add(
    check(r, {
      "stored cloud is exact": (x) =>
        x !== undefined && x.total === data.voters && sameWords(x.words, expectedWords(data.voters)),
    }),
  );
}

export const handleSummary = summaryHandler("wordcloud-burst");
