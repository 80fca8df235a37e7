import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Lines outside fenced code blocks: headings and links inside examples are not part of the document. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m) {
      const mark = m[1] as string;
      if (fence === undefined) fence = mark;
      else if (mark.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** The anchors GitHub gives headings: lower case, punctuation dropped, spaces to hyphens, -1/-2 for repeats. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Targets of inline links and images that stay inside the repository (no scheme), code spans excluded. */
export function relativeLinks(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const text = line.replace(/`[^`]*`/g, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) targets.push(target);
    }
  }
  return targets;
}

/** Every relative link of a Markdown file that points at a missing file or a missing heading. */
export function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  const source = readFileSync(file, "utf8");
  for (const target of relativeLinks(source)) {
    const [path = "", fragment] = target.split("#", 2);
    const resolved = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (fragment === undefined || !resolved.endsWith(".md")) continue;
    const text = resolved === file ? source : readFileSync(resolved, "utf8");
    if (!headingAnchors(text).has(fragment)) broken.push(`${target}: no such heading`);
  }
  return broken;
}

export const REPO_ROOT = resolve(import.meta.dirname, "..");
export const repoPath = (path: string) => join(REPO_ROOT, path);

/** The Markdown files a reader navigates between: docs/ and the per-artifact READMEs (README.md has its own test). */
export function docFiles(): string[] {
  const docs = readdirSync(repoPath("docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return [...docs.sort(), "chart/README.md", "alerts/README.md", "alerts/RUNBOOK.md", "loadtest/README.md"];
}
