export type Row = Record<string, unknown>;

export interface Queryable {
  /** One parameterised statement. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/**
 * Storage seen by the rest of the service. PostgreSQL (pg Pool) and the embedded PGlite both implement it
 * with the same SQL, so nothing outside the composition root knows which one runs.
 */
export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs fn in one transaction; retried on deadlock/serialization failure, so fn must be idempotent. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn on one dedicated session (needed for session-level advisory locks). */
  withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers within timeoutMs. */
  ping(timeoutMs?: number): Promise<void>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

/** PostgreSQL SQLSTATEs worth retrying the whole transaction for. */
export const RETRYABLE_SQLSTATES = new Set(["40001", "40P01"]);

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
