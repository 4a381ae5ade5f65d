// Relative links of Markdown pages, checked as GitHub renders them: the file a
// link names must exist in the repository, and its #anchor must name a heading
// of that page. Pure functions over text, plus one that reads the pages, so the
// checker itself can be tested on pages made up for the purpose.
import * as fs from "node:fs";
import * as path from "node:path";

export interface Link {
  /** The page the link is written in. */
  page: string;
  /** 1-based line of the link in its page. */
  line: number;
  target: string;
}

/** Fenced code blocks blanked (their line breaks kept), so that neither links nor headings are read from code. */
function withoutFences(text: string): string {
  return text.replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\1[^\n]*$|(?![\s\S]))/gm, (block) =>
    block.replace(/[^\n]/g, ""),
  );
}

/** Inline code spans turned into plain text of the same line breaks: brackets inside code are no link. */
function withoutCodeSpans(text: string): string {
  // A span may wrap onto the next line, never across a blank line (a new paragraph).
  return text.replace(/(`+)((?:[^\n]|\n(?![ \t]*\n))*?[^`\n])\1(?!`)/g, (span) => span.replace(/[^\n]/g, "c"));
}

/** Every link target of a page: inline links and images, and reference definitions. */
export function linksOf(page: string, text: string): Link[] {
  const plain = withoutCodeSpans(withoutFences(text));
  const lineAt = (index: number) => plain.slice(0, index).split("\n").length;
  const links: Link[] = [];
  for (const m of plain.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ page, line: lineAt(m.index!), target: m[1] });
  }
  for (const m of plain.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) {
    links.push({ page, line: lineAt(m.index!), target: m[1] });
  }
  return links;
}

/** A link to another site or scheme (https:, mailto:, //host) rather than to a file of the repository. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/**
 * GitHub's anchor for a heading: its text as rendered (links as their text,
 * no code marks), lower case, every character but letters, digits, spaces,
 * '-' and '_' dropped, each space turned into '-'.
 */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .trim();
  return rendered
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors a page offers: one per ATX heading (a repeated one gets -1, -2, ... as on GitHub), and HTML name/id anchors. */
export function anchorsOf(text: string): Set<string> {
  const plain = withoutFences(text);
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of plain.matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of plain.matchAll(/<a\s[^>]*\b(?:name|id)="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
}

/**
 * What is wrong with the relative links of the given pages (paths relative to
 * root), one sentence each naming the page, line and link; empty when all hold.
 */
export function brokenLinks(root: string, pages: string[]): string[] {
  const problems: string[] = [];
  for (const page of pages) {
    const file = path.join(root, page);
    for (const link of linksOf(page, fs.readFileSync(file, "utf8"))) {
      if (isExternal(link.target)) continue;
      const where = `${page}:${link.line}: link "${link.target}"`;
      const hash = link.target.indexOf("#");
      const filePart = decodeURIComponent(hash < 0 ? link.target : link.target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
      const target = filePart === "" ? file : filePart.startsWith("/") ? path.join(root, filePart) : path.resolve(path.dirname(file), filePart);
      const inside = path.relative(root, target);
      if (inside.startsWith("..") || path.isAbsolute(inside)) {
        problems.push(`${where} leaves the repository`);
        continue;
      }
      if (!fs.existsSync(target)) {
        problems.push(`${where}: ${inside} does not exist`);
        continue;
      }
      if (anchor === undefined) continue;
      if (fs.statSync(target).isDirectory()) {
        problems.push(`${where}: ${inside} is a directory, which has no headings`);
        continue;
      }
      if (!target.endsWith(".md")) {
        // GitHub's anchors into other files are line numbers (#L10, #L10-L20).
        if (!/^L\d+(-L\d+)?$/.test(anchor)) problems.push(`${where}: #${anchor} is no line anchor of ${inside}`);
        continue;
      }
      if (!anchorsOf(fs.readFileSync(target, "utf8")).has(anchor)) {
        problems.push(`${where}: no heading of ${inside} has the anchor #${anchor}`);
      }
    }
  }
  return problems;
}

/** Lines of a text as an editor numbers them: a last line without its line break counts too. */
export function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}
