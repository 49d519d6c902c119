// Reads the user-facing Markdown (README.md and docs/**/*.md) for the package
// tests: the fenced code blocks (for the docs type-check) and the links (for
// the shipped-links check), each with the line it starts on.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file whose package.json names meshkit. */
export function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'meshkit') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('meshkit repo root not found above this test file');
    dir = parent;
  }
}

/** README.md and every .md under docs/, as repo-relative paths with forward slashes, sorted. */
export function userMarkdownFiles(repo: string): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.md')) out.push(relative(repo, full).split(sep).join('/'));
    }
  };
  walk(join(repo, 'docs'));
  return out.sort();
}

/** One fenced code block. */
export interface CodeBlock {
  /** Repo-relative path of the Markdown file. */
  readonly file: string;
  /** 1-based line of the first line of code (the line after the opening fence). */
  readonly line: number;
  /** The language word of the info string (`ts`, `sh`, ...; '' when none). */
  readonly lang: string;
  /** The rest of the info string after the language word, trimmed. */
  readonly info: string;
  /** The code, with the fence's indentation removed. */
  readonly code: string;
}

/** Every fenced (```) code block of a Markdown text. An unclosed fence is an error (it would swallow the rest of the page). */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '```', lang = '', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trim().startsWith(fence) && line.trim().replace(/`/g, '') === '') break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (j >= lines.length) throw new Error(`${file}:${i + 1}: code fence never closed`);
    blocks.push({ file, line: i + 2, lang: lang.toLowerCase(), info: info.trim(), code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** One Markdown link or image target outside code. */
export interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** Inline links and images (`[text](target)`, `![alt](target)`) and reference definitions (`[id]: target`), outside code blocks and code spans. */
export function links(file: string, text: string): Link[] {
  const out: Link[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    const marker = /^(`{3,})/.exec(trimmed)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (trimmed.replace(/`/g, '') === '' && marker.length >= fence.length) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ file, line: index + 1, target: match[1] ?? '' });
    const reference = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
    if (reference) out.push({ file, line: index + 1, target: reference[1] ?? '' });
  });
  return out;
}

/** GitHub's heading anchors of a Markdown text (lower case, punctuation dropped, spaces to '-', repeats suffixed -1, -2, ...). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim();
    const marker = /^(`{3,})/.exec(trimmed)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (trimmed.replace(/`/g, '') === '') fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!heading) continue;
    const base = (heading[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** A link that does not resolve inside the package, with why. */
export interface BrokenLink extends Link {
  readonly reason: string;
}

/**
 * Relative links of the shipped Markdown that do not resolve within the shipped
 * files: a target the package does not carry (a link into `examples/` or `src/`),
 * an absolute path, or a `#anchor` no heading of the target page produces.
 * `shipped` lists the package's files, relative to its root; `read` returns a
 * shipped Markdown file's text. External links (a scheme, `//host`) are not checked.
 */
export function brokenLinks(shipped: readonly string[], read: (file: string) => string): BrokenLink[] {
  const files = new Set(shipped);
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    let found = anchorsOf.get(file);
    if (found === undefined) {
      found = headingAnchors(read(file));
      anchorsOf.set(file, found);
    }
    return found;
  };
  const broken: BrokenLink[] = [];
  for (const file of shipped.filter((f) => f.endsWith('.md') && (f === 'README.md' || f.startsWith('docs/')))) {
    for (const link of links(file, read(file))) {
      const { target } = link;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      if (target.startsWith('/')) {
        broken.push({ ...link, reason: 'absolute path: resolves nowhere in an installed package' });
        continue;
      }
      const hash = target.indexOf('#');
      const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = pathPart === '' ? file : posixResolve(file, pathPart);
      if (resolved === undefined) {
        broken.push({ ...link, reason: 'climbs out of the package' });
        continue;
      }
      const isDirectory = pathPart.endsWith('/') || (!files.has(resolved) && shipped.some((f) => f.startsWith(`${resolved}/`)));
      if (!isDirectory && !files.has(resolved)) {
        broken.push({ ...link, reason: `${resolved} is not in the package` });
        continue;
      }
      if (isDirectory && !shipped.some((f) => f.startsWith(`${resolved.replace(/\/$/, '')}/`))) {
        broken.push({ ...link, reason: `${resolved} is not in the package` });
        continue;
      }
      if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
        broken.push({ ...link, reason: `no heading in ${resolved} makes #${anchor}` });
      }
    }
  }
  return broken;
}

/** `to` relative to the directory of `from` (both package-relative, '/'-separated); undefined when it leaves the package. */
function posixResolve(from: string, to: string): string | undefined {
  const parts = from.split('/').slice(0, -1);
  for (const part of to.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join('/');
}
