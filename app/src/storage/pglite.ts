import { PGlite } from "@electric-sql/pglite";
import { type Database, type Queryable, type Row, withTimeout } from "./database.js";

/**
 * Embedded PostgreSQL (WASM) for the zero-dependency single instance. It has one session, which PGlite
 * serialises internally, so "pool" figures are constant.
 */
export async function createPgliteDatabase({ dataDir }: { dataDir?: string } = {}): Promise<Database> {
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  const session = (q: Pick<PGlite, "query" | "exec">): Queryable => ({
    async query<R extends Row>(sql: string, params?: readonly unknown[]) {
      const res = await q.query<R>(sql, params as unknown[] | undefined);
      return res.rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const direct = session(db);
  let busy = 0;
  return {
    kind: "pglite",
    query: direct.query,
    exec: direct.exec,
    async transaction(fn) {
      busy++;
      try {
        return await db.transaction((tx) => fn(session(tx)));
      } finally {
        busy--;
      }
    },
    async withSession(fn) {
      return fn(direct);
    },
    async ping(timeoutMs = 2000) {
      await withTimeout(db.query("SELECT 1"), timeoutMs, "database ping");
    },
    poolStats() {
      return { total: 1, idle: busy > 0 ? 0 : 1, waiting: Math.max(0, busy - 1), max: 1 };
    },
    async close() {
      await db.close();
    },
  };
}
