// The HTML export's style sheet: light, high-contrast, readable on a
// projector; status and severity colours shared by pills, cards and the
// Gantt chart; print-friendly. No web fonts: system stacks only.
#include "report/html_parts.h"

namespace runbook::report::html {

std::string_view StyleSheet() {
  return R"css(
:root {
  --bg: #f4f6f8; --paper: #ffffff; --ink: #1f2328; --muted: #57606a; --faint: #8c959f;
  --line: #d0d7de; --soft: #f6f8fa; --accent: #0b57d0;
  --ok: #1a7f37; --ok-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --warn: #9a6700; --warn-bg: #fff8c5; --info: #0969da; --info-bg: #ddf4ff;
  --wait: #8250df; --wait-bg: #fbefff; --timeout: #bc4c00; --timeout-bg: #fff1e5;
  --skip: #8c959f; --skip-bg: #eaeef2; --note: #b08800;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "DejaVu Sans", Arial, sans-serif;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 var(--sans); }
main, .doc-header .inner, nav.toc .inner, footer { max-width: 1240px; margin: 0 auto; padding: 0 28px; }
code, pre, .mono { font-family: var(--mono); font-size: 0.86em; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }

.doc-header { background: #0d1117; color: #f0f3f6; padding: 28px 0 24px; }
.doc-header .eyebrow { text-transform: uppercase; letter-spacing: .12em; font-size: 12px; color: #9da7b3; font-weight: 600; }
.doc-header h1 { margin: 4px 0 10px; font-size: 30px; line-height: 1.2; font-weight: 650; letter-spacing: -.01em; }
.doc-header .meta { color: #c9d1d9; font-size: 13.5px; }
.doc-header .meta code { color: #f0f3f6; background: rgba(255,255,255,.08); padding: 1px 5px; border-radius: 4px; }
.doc-header .headline { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }

nav.toc { background: var(--paper); border-bottom: 1px solid var(--line); }
nav.toc .inner { display: flex; gap: 4px 18px; flex-wrap: wrap; padding-top: 9px; padding-bottom: 9px; font-size: 13.5px; }
nav.toc a { color: var(--muted); font-weight: 500; }
nav.toc a:hover { color: var(--accent); }

section { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; margin: 22px 0; padding: 20px 24px 22px; }
section > h2 { margin: 0 0 14px; font-size: 20px; font-weight: 650; letter-spacing: -.005em; }
section h3 { font-size: 16px; margin: 22px 0 10px; font-weight: 650; }
section h3:first-of-type { margin-top: 4px; }
.lead { color: var(--muted); margin: -6px 0 14px; font-size: 14px; }
.empty { color: var(--muted); font-style: italic; }

.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin-bottom: 18px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 11px 14px; background: var(--soft); }
.card .k { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
.card .v { font-size: 22px; font-weight: 650; margin-top: 2px; line-height: 1.25; }
.card .s { font-size: 12.5px; color: var(--muted); margin-top: 2px; }
.card.bad { background: var(--fail-bg); border-color: #ffcecb; }
.card.bad .v { color: var(--fail); }
.card.good { background: var(--ok-bg); border-color: #aceebb; }
.card.good .v { color: var(--ok); }

.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; line-height: 18px;
        white-space: nowrap; border: 1px solid transparent; }
.pill.big { font-size: 14px; padding: 3px 12px; line-height: 20px; }
.st-succeeded, .dec-approved { color: var(--ok); background: var(--ok-bg); }
.st-failed, .dec-rejected { color: var(--fail); background: var(--fail-bg); }
.st-timed_out { color: var(--timeout); background: var(--timeout-bg); }
.st-cancelled, .st-interrupted { color: #6e4b00; background: #f5e6c8; }
.st-skipped, .st-not_run, .st-pending { color: var(--muted); background: var(--skip-bg); }
.st-running { color: var(--info); background: var(--info-bg); }
.st-waiting { color: var(--wait); background: var(--wait-bg); }
.sev-critical { color: var(--fail); background: var(--fail-bg); }
.sev-warning { color: var(--warn); background: var(--warn-bg); }
.sev-info { color: var(--info); background: var(--info-bg); }
.doc-header .pill { border-color: rgba(255,255,255,.25); }

table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
     border-bottom: 2px solid var(--line); padding: 7px 10px; background: var(--paper); }
td { border-bottom: 1px solid #eaeef2; padding: 6px 10px; vertical-align: top; }
tbody tr:hover td { background: #fafbfc; }
td.t, td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { font-family: var(--mono); font-size: 12.5px; color: var(--muted); }
td.num { text-align: right; }
td.msg { word-break: break-word; }
.table-wrap { overflow-x: auto; }
table.timeline thead th { position: sticky; top: 0; z-index: 1; }
table.timeline tr.k-note td { background: #fffbe6; }
table.timeline tr.k-note td.msg { font-weight: 600; }
table.timeline tr.k-finding td.msg { font-weight: 600; }
.kind { font-family: var(--mono); font-size: 12px; padding: 0 6px; border-radius: 4px; background: var(--soft); color: var(--muted);
        white-space: nowrap; border: 1px solid #eaeef2; }
.kind.st-succeeded, .kind.st-failed, .kind.st-timed_out, .kind.st-cancelled, .kind.sev-critical, .kind.sev-warning,
.kind.sev-info { border-color: transparent; }
.kind.k-note { background: #fff1b8; color: #6e5200; border-color: transparent; }
.runchip { font-family: var(--mono); font-size: 12px; white-space: nowrap; border-left: 4px solid var(--c); padding-left: 6px; }
.runchip .rb { color: var(--ink); }
.runchip .id { color: var(--faint); }
.rc0 { --c: #0969da; } .rc1 { --c: #8250df; } .rc2 { --c: #bf3989; } .rc3 { --c: #1a7f37; } .rc4 { --c: #bc4c00; } .rc5 { --c: #0a7b83; }
.child-of { color: var(--muted); font-size: 12px; }

.gantt-legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12.5px; color: var(--muted); margin: -4px 0 12px; }
.gantt-legend span::before { content: ""; display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px;
                             vertical-align: -1px; background: var(--sw); }
figure.gantt { margin: 0 0 18px; }
figure.gantt figcaption { font-size: 13.5px; margin-bottom: 6px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
figure.gantt figcaption .when { color: var(--muted); font-size: 12.5px; }
svg.gantt { display: block; width: 100%; height: auto; border: 1px solid #eaeef2; border-radius: 6px; background: var(--paper); }
svg.gantt text { font-family: var(--sans); font-size: 12px; fill: var(--ink); }
svg.gantt text.label { font-family: var(--mono); font-size: 12px; }
svg.gantt text.label.dim { fill: var(--faint); }
svg.gantt text.tick { fill: var(--muted); font-size: 11px; }
svg.gantt text.dur { fill: var(--muted); font-size: 11px; }
svg.gantt .row-alt { fill: #f6f8fa; }
svg.gantt .grid { stroke: #e4e8ec; stroke-width: 1; }
svg.gantt .axis { stroke: var(--line); stroke-width: 1; }
svg.gantt .bar { stroke: rgba(0,0,0,.18); stroke-width: .5; }
svg.gantt .bar.st-succeeded { fill: #2da44e; }
svg.gantt .bar.st-failed { fill: #cf222e; }
svg.gantt .bar.st-timed_out { fill: #e16f24; }
svg.gantt .bar.st-cancelled, svg.gantt .bar.st-interrupted { fill: #bf8700; }
svg.gantt .bar.st-skipped { fill: #afb8c1; }
svg.gantt .bar.st-running { fill: #54aeff; }
svg.gantt .bar.st-waiting { fill: #a475f9; }
svg.gantt .bar.st-pending { fill: #d0d7de; }
svg.gantt .mk.sev-critical { fill: #a40e26; stroke: #fff; stroke-width: 1; }
svg.gantt .mk.sev-warning { fill: #d4a72c; stroke: #fff; stroke-width: 1; }
svg.gantt .mk.sev-info { fill: #0969da; stroke: #fff; stroke-width: 1; }
svg.gantt .mk.dec-approved { fill: #1a7f37; stroke: #fff; stroke-width: 1; }
svg.gantt .mk.dec-rejected { fill: #cf222e; stroke: #fff; stroke-width: 1; }
svg.gantt .note-line { stroke: var(--note); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.gantt .note-flag { fill: var(--note); }

.step { border: 1px solid var(--line); border-left: 4px solid var(--skip); border-radius: 8px; margin: 0 0 12px; padding: 11px 14px; }
.step.is-succeeded { border-left-color: #2da44e; }
.step.is-failed { border-left-color: var(--fail); }
.step.is-timed_out { border-left-color: #e16f24; }
.step.is-cancelled, .step.is-interrupted { border-left-color: #bf8700; }
.step.is-running { border-left-color: #54aeff; }
.step.is-waiting { border-left-color: #a475f9; }
.step-head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.step-head .n { color: var(--faint); font-variant-numeric: tabular-nums; min-width: 1.6em; }
.step-head code.sid { font-size: 14px; font-weight: 600; }
.step-head .title { font-weight: 500; }
.facts { color: var(--muted); font-size: 13px; margin-top: 3px; }
.facts .sep { color: #c4cbd2; margin: 0 6px; }
.error { color: var(--fail); font-size: 13.5px; margin-top: 6px; }
.step table.attempts { margin-top: 8px; }
.outlinks { font-size: 12.5px; margin-top: 6px; }
.outlinks a { margin-right: 12px; }
pre { background: #f6f8fa; border: 1px solid #eaeef2; border-radius: 6px; padding: 10px 12px; margin: 8px 0 0; overflow-x: auto;
      line-height: 1.45; white-space: pre; tab-size: 4; }
pre.cmd { background: #0d1117; color: #e6edf3; border-color: #0d1117; }
pre.wrap { white-space: pre-wrap; word-break: break-word; }
.runmeta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; font-size: 13.5px; margin: 0 0 14px; }
.runmeta dt { color: var(--muted); }
.runmeta dd { margin: 0; word-break: break-word; }

.finding { border: 1px solid var(--line); border-left: 4px solid; border-radius: 8px; padding: 9px 14px; margin: 0 0 10px; }
.finding.lvl-critical { border-left-color: var(--fail); background: #fffafa }
.finding.lvl-warning { border-left-color: #d4a72c; background: #fffdf0 }
.finding.lvl-info { border-left-color: var(--info); background: #f8fbff }
.finding .msg { font-weight: 600; }
.finding .meta { color: var(--muted); font-size: 13px; margin-top: 2px; }

.notes { list-style: none; padding: 0; margin: 0; }
.notes li { border-left: 4px solid var(--note); background: #fffbe6; border-radius: 0 8px 8px 0; padding: 9px 14px; margin: 0 0 10px; }
.notes .meta { color: var(--muted); font-size: 13px; }
.notes .text { margin-top: 3px; white-space: pre-wrap; word-break: break-word; }

details.output { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 10px; background: var(--paper); }
details.output > summary { cursor: pointer; padding: 8px 14px; font-size: 13.5px; list-style-position: inside; }
details.output > summary .meta { color: var(--muted); margin-left: 8px; font-size: 12.5px; }
details.output[open] > summary { border-bottom: 1px solid #eaeef2; }
details.output > .body { padding: 4px 14px 12px; }
details.output .omitted { color: var(--muted); font-size: 12.5px; font-style: italic; margin: 6px 0 0; }

.verdict { display: flex; gap: 14px; align-items: center; border-radius: 8px; padding: 12px 16px; margin-bottom: 14px; font-size: 15px; }
.verdict.good { background: var(--ok-bg); color: #0f5323; border: 1px solid #aceebb; }
.verdict.bad { background: var(--fail-bg); color: #82071e; border: 1px solid #ffcecb; }
.verdict.unknown { background: var(--warn-bg); color: #4d2d00; border: 1px solid #f2d675; }
.verdict .mark { font-size: 22px; font-weight: 700; line-height: 1; }
.verdict b { font-weight: 650; }
ul.problems { color: var(--fail); font-size: 13.5px; }
.hash { font-family: var(--mono); font-size: 12px; word-break: break-all; }
.match { color: var(--ok); font-weight: 600; }
.mismatch { color: var(--fail); font-weight: 700; }

.fill { border: 2px dashed var(--line); border-radius: 8px; min-height: 130px; padding: 12px 16px; margin: 0 0 14px; }
.fill h3 { margin: 0 0 4px !important; }
.fill p { color: var(--faint); margin: 0; font-style: italic; }

footer { color: var(--muted); font-size: 12.5px; padding-top: 4px; padding-bottom: 36px; }

@media print {
  body { background: #fff; font-size: 12px; }
  nav.toc { display: none; }
  .doc-header { background: #fff; color: #000; border-bottom: 2px solid #000; }
  .doc-header .meta, .doc-header .eyebrow { color: #333; }
  section { border: none; padding: 0; margin: 18px 0; break-inside: auto; }
  table.timeline thead th { position: static; }
  pre { white-space: pre-wrap; word-break: break-word; }
}
)css";
}

}  // namespace runbook::report::html
