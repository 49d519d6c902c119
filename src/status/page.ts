import { escapeHtml } from './escape.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/** An inline icon (a green rounded square): without one the browser asks the server for /favicon.ico. */
const FAVICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%2316a05a'/%3E%3C/svg%3E";

/** What the page template needs. */
export interface PageOptions {
  readonly title: string;
  readonly refreshMs: number;
  /** The per-response CSP nonce that lets the inline style and script run (and nothing else). */
  readonly nonce: string;
}

/**
 * The status page: one self-contained HTML document (inline CSS and JS, no
 * build step, no external assets). It carries no snapshot data itself: the
 * script fetches `snapshot.json` at once and then every `refreshMs`, so the
 * only server-side values in the markup are the escaped title and two numbers.
 */
export function renderPage(options: PageOptions): string {
  const title = escapeHtml(options.title);
  const nonce = escapeHtml(options.nonce);
  const seconds = options.refreshMs / 1000;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="${FAVICON}">
<title>${title}</title>
<style nonce="${nonce}">${PAGE_STYLE}</style>
</head>
<body data-refresh-ms="${options.refreshMs}" data-polls="0">
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span><h1>${title}</h1></div>
  <div class="conn"><span id="live" class="dot"></span><span id="conn-text">connecting&hellip;</span></div>
</header>
<main id="clients" aria-live="polite"><p class="empty">Waiting for the first snapshot&hellip;</p></main>
<footer>Read-only view of this process's meshkit clients &middot; refreshes every ${seconds} s from <code>snapshot.json</code></footer>
<script nonce="${nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
