/**
 * The report's stylesheet, inlined in the page. One column on a phone, chart
 * and numbers side by side from 60rem; wide tables (`stack`: by label,
 * policies compared) become one card a row on a phone, each cell a
 * "column: value" line, so nothing scrolls sideways; phase bands and bars carry a pattern
 * (stripes, dots, hatching) besides their colour, so the page reads in grey
 * and in print.
 */
export const REPORT_STYLES = `
:root{--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0 auto;padding:1rem;max-width:90rem;line-height:1.4}
h1{font-size:1.4rem;margin:.2rem 0;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.6rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;overflow-wrap:anywhere}
.about,.note,figcaption,footer{color:var(--muted);font-size:.9rem}
footer{margin-top:2rem;border-top:1px solid var(--line);padding-top:.5rem}
.defs{position:absolute;width:0;height:0;overflow:hidden}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.5rem;margin:0}
.figure{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem}
.figure dt{font-size:.8rem;color:var(--muted)}
.figure dd{margin:0;font-size:1.15rem;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.events{font-size:.9rem;padding-left:1.2rem}
.pair{display:grid;grid-template-columns:minmax(0,1fr);gap:0 1.5rem}
.chart-and-numbers{display:grid;grid-template-columns:1fr;gap:1rem;align-items:start}
@media (min-width:60rem){.chart-and-numbers{grid-template-columns:minmax(0,1fr) auto}.pair{grid-template-columns:repeat(2,minmax(0,1fr))}}
figure.timeline{margin:0;min-width:0}
.bands{position:relative;height:1.7rem;margin-left:3.2rem;border:1px solid var(--line);background:#fff;overflow:hidden}
.band{position:absolute;top:0;bottom:0;font-size:.72rem;line-height:1.7rem;padding:0 .2rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-right:1px solid var(--ink)}
.band,.band-key{background-color:#eef1f4}
.band-key{display:inline-block;width:1.2rem;height:.9rem;border:1px solid var(--ink);vertical-align:middle}
.band-canary{background:repeating-linear-gradient(45deg,#fde7a8 0 6px,#fff 6px 9px)}
.band-rolling-out{background:#dbeafe}
.band-awaiting-promotion{background:radial-gradient(#555 1px,#fff7d6 1.5px) 0 0/6px 6px}
.band-paused{background:repeating-linear-gradient(90deg,#d6d6d6 0 3px,#fff 3px 8px)}
.band-rolling-back{background:repeating-linear-gradient(45deg,transparent 0 4px,#222 4px 5px),repeating-linear-gradient(-45deg,#fbd0cb 0 4px,#222 4px 5px)}
.band-pending{background:#fff}
.band-rolling-back,.band-awaiting-promotion{font-weight:600}
.plot{position:relative;padding-left:3.2rem;padding-bottom:1.4rem}
.area-chart{display:block;width:100%;height:clamp(12rem,40vw,20rem);border-left:1px solid var(--ink);border-bottom:1px solid var(--ink);background:repeating-linear-gradient(0deg,transparent 0 calc(25% - 1px),#eaeef2 calc(25% - 1px) 25%)}
.area{stroke:#111;stroke-width:1;vector-effect:non-scaling-stroke}
.band-line{stroke:#888;stroke-dasharray:3 3;vector-effect:non-scaling-stroke}
.y-axis{position:absolute;left:0;top:0;bottom:1.4rem;width:3rem}
.y-axis span{position:absolute;right:.3rem;transform:translateY(-50%);font-size:.75rem;font-variant-numeric:tabular-nums}
.x-axis{position:absolute;left:3.2rem;right:0;bottom:0;height:1.3rem}
.x-axis span{position:absolute;transform:translateX(-50%);font-size:.75rem;white-space:nowrap}
.x-axis span:first-child{transform:none}
.x-axis span:last-child{transform:translateX(-100%)}
table.numbers{border-collapse:collapse;width:100%;font-size:.88rem;font-variant-numeric:tabular-nums;margin:.6rem 0}
table.numbers caption{text-align:left;font-weight:600;padding:.2rem 0}
table.numbers th,table.numbers td{border-bottom:1px solid var(--line);padding:.25rem .4rem;text-align:right;vertical-align:middle}
table.numbers th[scope=row],table.numbers thead th:first-child{text-align:left;font-weight:500;overflow-wrap:break-word}
table.numbers thead th{font-size:.78rem;color:var(--muted);font-weight:600}
tr.rest th,tr.empty th{font-style:italic}
table.legend th{white-space:nowrap}
table.labels th[scope=row]{min-width:6rem}
.swatch{width:1rem;height:1rem;vertical-align:-.15rem;margin-right:.2rem}
.bar-cell{width:40%;white-space:nowrap}
.share{display:inline-block;width:3.4rem;text-align:right}
.bar{display:inline-block;width:calc(100% - 3.6rem);min-width:3rem;height:.8rem;border:1px solid var(--ink);vertical-align:middle;background:#fff}
.bar>span{display:block;height:100%}
.bar-failed>span{background:repeating-linear-gradient(45deg,#c0392b 0 3px,#f5b7b1 3px 6px)}
.bar-ok>span{background:#5aa469}
.bar-runs>span{background:repeating-linear-gradient(90deg,#3b6ea8 0 4px,#a9c4e4 4px 6px)}
.histogram .bar-cell{width:55%}
.histogram .bar{width:100%}
table.compare td{white-space:nowrap}
@media (max-width:40rem){
table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.stack,table.stack tbody,table.stack tr,table.stack th,table.stack td{display:block;width:auto}
table.stack caption{display:block}
table.stack tr{border:1px solid var(--line);border-radius:6px;margin:.4rem 0;padding:.15rem .4rem}
table.stack th[scope=row]{font-weight:600;min-width:0;overflow-wrap:anywhere}
table.stack td{display:flex;justify-content:space-between;align-items:center;gap:.8rem;border-bottom:0;padding:.1rem 0;white-space:normal;overflow-wrap:anywhere}
table.stack td::before{content:attr(data-col);color:var(--muted);text-align:left;flex:0 1 auto}
table.stack td.bar-cell{width:auto}
table.stack .bar{flex:1 1 auto;width:auto}
}
code{font-size:.95em}
@media (max-width:30rem){body{padding:.6rem}.x-axis .minor{display:none}table.labels .bar{display:none}table.labels .bar-cell{width:auto}.figures{grid-template-columns:repeat(2,minmax(0,1fr))}.bar-cell{width:35%}table.numbers{font-size:.8rem}table.numbers th,table.numbers td{padding:.2rem .25rem}}
@media print{.figure{break-inside:avoid}section{break-inside:avoid-page}}
`;
