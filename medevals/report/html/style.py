"""The report's stylesheet (inline; the page loads nothing)."""

from __future__ import annotations

from medevals.report.html.samples import MARKERS

CSS = """
:root{--fg:#1d2430;--muted:#6b7685;--line:#dfe4ea;--zebra:#f6f8fa;--accent:#1f3d7a;
--ok:#1d7a46;--okbg:#e6f4ec;--warn:#9a5b00;--warnbg:#fff3dc;--bad:#b42318;--badbg:#fdecea}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;color:var(--fg);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
a{color:var(--accent)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{white-space:pre-wrap;word-break:break-word;background:var(--zebra);border:1px solid var(--line);
border-radius:4px;padding:8px;margin:2px 0 8px;max-height:28em;overflow:auto}
pre.err{background:var(--badbg);border-color:#f3c1bb}
.muted{color:var(--muted)}.small{font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(440px,100%),1fr));gap:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;border-top:4px solid var(--ok);min-width:0}
.card.status-warn{border-top-color:#e0a100}.card.status-bad{border-top-color:var(--bad)}
.card h3{margin-top:4px}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:10px;vertical-align:middle}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.warn{background:var(--warnbg);color:var(--warn)}
.badge.bad{background:var(--badbg);color:var(--bad)}
.banner{padding:6px 10px;border-radius:4px;margin:6px 0}
.banner.warn{background:var(--warnbg);color:var(--warn)}.banner.bad{background:var(--badbg);color:var(--bad)}
table{border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
thead th{background:#eef1f5;font-weight:600}
tbody tr:nth-child(even){background:var(--zebra)}
table.kv{width:100%}
table.kv th{font-weight:500;color:var(--muted);white-space:nowrap;padding-right:16px;width:1%}
td,dd{overflow-wrap:break-word}
ul.prov{list-style:none;padding:0;margin:2px 0 0}
ul.prov li{padding:6px 0;border-top:1px solid var(--line)}
ul.prov code{font-size:11.5px}
code.cmd{word-break:break-all}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
table.grid th.runcol{min-width:200px}
th.rowhead{white-space:nowrap}
.val b{font-size:15px}.ci-text{color:var(--muted);font-size:12px}
svg.ci{display:block;margin:2px 0 4px}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:4px 0 0;font-size:12px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
table.compact td,table.compact th{padding:4px 8px}
.filters{font-size:12px;color:var(--muted);margin-right:4px}
.flt{margin:0 2px 8px 0;vertical-align:middle}.flt-label{margin:0 10px 0 0;font-size:12px}
.sample,.pairdrill{border:1px solid var(--line);border-radius:4px;margin:3px 0;padding:3px 8px}
.sample:has(:target),.pairdrill:has(:target){outline:2px solid var(--accent)}
.sbody{padding:2px 0 6px}
dl.facts.score{margin:6px 0}
details.call{border:1px solid var(--line);border-radius:4px;padding:2px 8px;margin:4px 0;background:#fff}
details.call>summary{font-size:12px;cursor:pointer;color:var(--fg)}
details.output>summary{cursor:pointer;color:var(--muted);margin:6px 0 2px}
.msg{border-left:3px solid #c9d2dc;padding-left:8px;margin:6px 0 2px}
.msg .role{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.msg pre{margin-top:1px}
.msg-system{border-left-color:#7b2cbf}.msg-user{border-left-color:#1f3d7a}
.msg-assistant{border-left-color:#2e933c}.msg-tool{border-left-color:#c77d00}
pre.reply{background:#f2f8f4;border-color:#cfe6d7}
.settings{margin:2px 0 4px}
.sidebyside{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:12px;margin:6px 0}
.side{min-width:0;border:1px solid var(--line);border-radius:6px;padding:6px 10px;background:#fff}
.sidehead{font-weight:600;font-size:13px}
.ab .mk{min-width:0}
h4{font-size:13px;margin:12px 0 4px}h4.sub{font-size:14px;margin-top:16px}
p.ids{margin:4px 0;line-height:1.9}p.ids a{margin-right:4px}
.who{font-size:12px;color:var(--muted);margin-right:4px}
table.paired th.rowhead{white-space:normal;min-width:9em}
.sample:nth-child(even){background:var(--zebra)}
.sample summary{cursor:pointer}
.thumbs{display:flex;flex-wrap:wrap;gap:6px;margin:2px 0 6px}
.thumb{margin:0;font-size:11px;color:var(--muted)}
.thumb img{display:block;max-width:160px;max-height:160px;border:1px solid var(--line)}
.sample[open],.pairdrill[open]{background:#fff}
.ta{margin-left:6px}
.label{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin-top:6px}
.mk{display:inline-block;min-width:8.5em;font-weight:600;font-size:12px}
.mk-correct{color:var(--ok)}.mk-incorrect{color:var(--bad)}.mk-unparseable{color:var(--warn)}
.mk-error{color:#fff;background:var(--bad);padding:0 6px;border-radius:3px;min-width:0;margin-right:4px}
.mk-unscored,.mk-partial{color:var(--muted)}
footer{margin-top:40px;color:var(--muted);font-size:12px}
.plots{display:flex;flex-wrap:wrap;gap:16px}
figure.plot{margin:4px 0 12px;border:1px solid var(--line);border-radius:6px;padding:8px}
.plot-title{font-weight:600;font-size:13px;margin-bottom:4px}
svg text.tick{font-size:10px;fill:#6b7685}svg text.axis{font-size:11px;fill:#1d2430}
svg text.plabel{font-size:10px;fill:#1d2430}
.legend{font-size:11px;color:var(--muted);max-width:520px}
.legend .key{display:inline-block;margin-right:10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:middle}
.legend i.front{border:2px dashed #2e933c;background:none;width:14px;height:0;border-radius:0}
.legend i.diag{border-top:2px dashed #9aa5b1;background:none;width:14px;height:0;border-radius:0}
p.caption{max-width:1000px}
"""

FILTER_CSS = "".join(f".flt-{k}:checked~.sample-list .sample:not(.s-{k}){{display:none}}" for k in MARKERS)
