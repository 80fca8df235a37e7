/**
 * Building a migration from an earlier one's text: a function is redefined from the text that created it, with
 * only the part that changes replaced, so the rest provably stays as released. Each helper refuses a text that no
 * longer holds what it expects, which fails the build of the migration list instead of a database.
 */

/** Replaces `from` in `text`. */
export function patch(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`migration text: expected text not found: ${from}`);
  return text.replace(from, to);
}

/** The `CREATE [OR REPLACE] FUNCTION name(...) ... $fn$;` statement of `name` in `sql`, as CREATE OR REPLACE. */
export function functionText(sql: string, name: string): string {
  const match = new RegExp(`CREATE (OR REPLACE )?FUNCTION ${name}\\(`).exec(sql);
  const end = match ? sql.indexOf("$fn$;", sql.indexOf("$fn$", match.index) + 4) : -1;
  if (!match || end < 0) throw new Error(`migration text: function ${name} not found`);
  return sql
    .slice(match.index, end + "$fn$;".length)
    .replace(/^CREATE (OR REPLACE )?FUNCTION/, "CREATE OR REPLACE FUNCTION");
}
