/**
 * Just enough PromQL lexing to list the vector selectors of an expression with their label matchers, so the
 * tests can prove every selector carries the job matcher. Syntax errors are promtool's job, not this one's:
 * promtool parses every expression in the same tests.
 */
export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}
export interface Selector {
  /** Metric name, or undefined for `{__name__=~"..."}` style selectors. */
  name?: string;
  matchers: Matcher[];
}

type Token =
  | { kind: "ident"; text: string }
  | { kind: "string"; text: string }
  | { kind: "number"; text: string }
  | { kind: "range"; text: string }
  | { kind: "punct"; text: string };

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "atan2",
  "inf",
  "nan",
]);
// Aggregations may be followed by `by (...)` instead of their argument, so they are not recognised as calls.
const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  "limitk",
  "limit_ratio",
]);
const LABEL_LIST_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < expr.length && expr[i] !== "\n") i++;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      let text = "";
      while (j < expr.length && expr[j] !== c) {
        if (expr[j] === "\\" && c !== "`") {
          text += expr[j + 1] ?? "";
          j += 2;
        } else {
          text += expr[j];
          j++;
        }
      }
      if (j >= expr.length) throw new Error(`unterminated string in: ${expr}`);
      tokens.push({ kind: "string", text });
      i = j + 1;
    } else if (c === "[") {
      const j = expr.indexOf("]", i);
      if (j < 0) throw new Error(`unterminated range in: ${expr}`);
      tokens.push({ kind: "range", text: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "ident", text: m[0] });
      i += m[0].length;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?[a-z]*)/i.exec(
        expr.slice(i),
      ) as RegExpExecArray;
      tokens.push({ kind: "number", text: m[0] });
      i += m[0].length;
    } else if (c === "$") {
      // Grafana variables outside strings only occur in ranges, which are consumed above.
      throw new Error(`unexpected variable outside a string or range in: ${expr}`);
    } else {
      const two = expr.slice(i, i + 2);
      const op = ["==", "!=", "=~", "!~", ">=", "<="].includes(two) ? two : c;
      tokens.push({ kind: "punct", text: op });
      i += op.length;
    }
  }
  return tokens;
}

function readMatchers(tokens: Token[], start: number): { matchers: Matcher[]; end: number } {
  const matchers: Matcher[] = [];
  let i = start + 1;
  while (tokens[i]?.text !== "}") {
    const label = tokens[i];
    const op = tokens[i + 1];
    const value = tokens[i + 2];
    if (label?.kind !== "ident" || op?.kind !== "punct" || value?.kind !== "string") {
      throw new Error(`cannot read label matcher at token ${i}`);
    }
    matchers.push({ label: label.text, op: op.text as Matcher["op"], value: value.text });
    i += 3;
    if (tokens[i]?.text === ",") i++;
  }
  return { matchers, end: i };
}

/** Every vector selector in the expression, in order of appearance. */
export function selectors(expr: string): Selector[] {
  const tokens = tokenize(expr);
  const out: Selector[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    if (t.kind === "punct" && t.text === "{") {
      const { matchers, end } = readMatchers(tokens, i);
      out.push({ matchers });
      i = end;
    } else if (t.kind === "ident") {
      if (KEYWORDS.has(t.text.toLowerCase())) {
        if (LABEL_LIST_KEYWORDS.has(t.text) && next?.text === "(") {
          // Skip the label list: by (job, namespace).
          while (tokens[i]?.text !== ")") i++;
        }
        continue;
      }
      if (next?.text === "(" || AGGREGATIONS.has(t.text)) continue; // function or aggregation
      if (next?.text === "{") {
        const { matchers, end } = readMatchers(tokens, i + 1);
        out.push({ name: t.text, matchers });
        i = end;
      } else {
        out.push({ name: t.text, matchers: [] });
      }
    }
  }
  return out;
}

/** Ranges ([5m], [$__rate_interval], subqueries [1h:5m]) in order of appearance. */
export function ranges(expr: string): string[] {
  return tokenize(expr)
    .filter((t) => t.kind === "range")
    .map((t) => t.text);
}

/** The metric names a selector can match: its name, or the alternatives of a simple __name__ regex. */
export function metricNames(s: Selector): string[] {
  if (s.name) return [s.name];
  const m = s.matchers.find((x) => x.label === "__name__");
  if (!m) return [];
  if (m.op === "=") return [m.value];
  // Only the shape used in the rules: prefix_(a|b)_suffix.
  const alt = /^([^()|]*)\(([^()]*)\)([^()|]*)$/.exec(m.value);
  if (!alt) return [m.value];
  return (alt[2] as string).split("|").map((a) => `${alt[1]}${a}${alt[3]}`);
}
