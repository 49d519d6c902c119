/**
 * The status page's stylesheet: inline, no external assets, light and dark
 * schemes from `prefers-color-scheme`. State colours: green healthy, red
 * ejected or open, amber ramping up or not available.
 * @internal
 */
export const PAGE_STYLE = String.raw`
:root {
  --bg: #f4f6f9; --card: #ffffff; --ink: #17202b; --muted: #667385; --line: #e3e8ef; --head: #f8fafc;
  --ok: #16a05a; --ok-bg: #e5f6ec; --bad: #d63b3b; --bad-bg: #fdeaea; --warn: #c98500; --warn-bg: #fdf3dc;
  --info: #3b6fd6; --info-bg: #e8effc; --spark: #3b6fd6; --spark-fill: rgba(59, 111, 214, 0.12);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1117; --card: #161b22; --ink: #e6edf3; --muted: #8b98a8; --line: #27303b; --head: #1b212a;
    --ok: #3fcf7f; --ok-bg: #123322; --bad: #ff6b6b; --bad-bg: #3a1619; --warn: #f2b53b; --warn-bg: #3a2c0c;
    --info: #79a6ff; --info-bg: #16233d; --spark: #79a6ff; --spark-fill: rgba(121, 166, 255, 0.15);
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 16px; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
.brand { display: flex; align-items: center; gap: 10px; }
.logo { width: 22px; height: 22px; border-radius: 6px; background: conic-gradient(var(--ok) 0 33%, var(--info) 0 66%, var(--warn) 0); }
h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: 0.01em; }
.conn { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); display: inline-block; flex: none; }
.dot.ok { background: var(--ok); box-shadow: 0 0 0 0 var(--ok); animation: pulse 2s infinite; }
.dot.bad { background: var(--bad); }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(22, 160, 90, 0.45); } 70% { box-shadow: 0 0 0 7px rgba(22, 160, 90, 0); } 100% { box-shadow: 0 0 0 0 rgba(22, 160, 90, 0); } }
main { padding: 20px 24px; display: grid; gap: 20px; max-width: 1280px; margin: 0 auto; }
.empty { color: var(--muted); text-align: center; padding: 48px 0; }
section.client { background: var(--card); border: 1px solid var(--line); border-radius: 12px; overflow: hidden; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); }
section.client.closed { opacity: 0.6; }
.client-head { padding: 14px 18px 12px; display: grid; gap: 8px; border-bottom: 1px solid var(--line); }
.title-row { display: flex; align-items: baseline; flex-wrap: wrap; gap: 10px 14px; }
h2 { font-size: 16px; margin: 0; font-family: var(--mono); font-weight: 650; }
.counts { display: flex; gap: 6px; }
.count { font-size: 12px; padding: 1px 8px; border-radius: 999px; font-weight: 600; }
.count.ok { color: var(--ok); background: var(--ok-bg); }
.count.bad { color: var(--bad); background: var(--bad-bg); }
.count.warn { color: var(--warn); background: var(--warn-bg); }
.discovery { color: var(--muted); font-size: 12.5px; }
.discovery .src { font-family: var(--mono); color: var(--ink); }
.discovery .stale { color: var(--warn); font-weight: 600; }
.identity { font-size: 12.5px; color: var(--muted); margin: 2px 0 8px; }
.identity .src { font-family: var(--mono); color: var(--ink); }
.identity .expired, .identity .stale { color: var(--bad); font-weight: 600; }
.badges { display: flex; flex-wrap: wrap; gap: 6px; }
.badge { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; padding: 2px 9px 2px 7px; border-radius: 6px; border: 1px solid var(--line); background: var(--head); white-space: nowrap; }
.badge b { font-weight: 650; }
.badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--muted); }
.badge.ok::before { background: var(--ok); }
.badge.bad { border-color: var(--bad); background: var(--bad-bg); }
.badge.bad::before { background: var(--bad); }
.badge.warn { border-color: var(--warn); background: var(--warn-bg); }
.badge.warn::before { background: var(--warn); }
.badge.info::before { background: var(--info); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; padding: 8px 12px; background: var(--head); border-bottom: 1px solid var(--line); }
td { padding: 7px 12px; border-bottom: 1px solid var(--line); vertical-align: middle; }
tbody tr:last-child td { border-bottom: none; }
tbody tr { box-shadow: inset 3px 0 0 var(--ok); }
tbody tr[data-state="ejected"], tbody tr[data-state="circuit-open"] { box-shadow: inset 3px 0 0 var(--bad); background: linear-gradient(90deg, var(--bad-bg), transparent 55%); }
tbody tr[data-state="slow-start"], tbody tr[data-state="unavailable"], tbody tr[data-state="half-open"] { box-shadow: inset 3px 0 0 var(--warn); background: linear-gradient(90deg, var(--warn-bg), transparent 55%); }
td.num, th.num { text-align: right; }
.c-id { font-family: var(--mono); font-size: 13px; }
.c-zone { color: var(--muted); }
.pill { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; font-weight: 650; padding: 2px 9px; border-radius: 999px; white-space: nowrap; }
.pill::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.pill.ok { color: var(--ok); background: var(--ok-bg); }
.pill.bad { color: var(--bad); background: var(--bad-bg); }
.pill.warn { color: var(--warn); background: var(--warn-bg); }
.why { display: block; font-size: 11.5px; color: var(--muted); margin-top: 2px; }
svg.spark { display: block; overflow: visible; }
svg.spark .line { fill: none; stroke: var(--spark); stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg.spark .area { fill: var(--spark-fill); stroke: none; }
svg.spark .last { fill: var(--spark); }
svg.spark .base { stroke: var(--line); stroke-dasharray: 3 3; }
tr[data-state="ejected"] svg.spark .line { stroke: var(--bad); }
tr[data-state="ejected"] svg.spark .last { fill: var(--bad); }
.bar { display: inline-block; width: 42px; height: 6px; border-radius: 3px; background: var(--line); vertical-align: middle; margin-left: 8px; overflow: hidden; }
.bar > i { display: block; height: 100%; background: var(--info); }
.more td { color: var(--muted); text-align: center; font-style: italic; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 4px 0 24px; }
code { font-family: var(--mono); }
`;
