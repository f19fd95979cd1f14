"""The page of `gg-workbench trace --html`: a Trace (trace_model.py) drawn as one self-contained HTML file.

Inline CSS, one inline SVG timeline (a column per pass, a row per kind of mark, a lane per Task), the
example's source below it, and a short inline script for hover text and for choosing a pass. No network.
"""
from __future__ import annotations

import html
import json
import math
from typing import Dict, Tuple

from workbench.trace_model import Mark, PassView, Trace

__all__ = ["column_width", "render_page"]

#: Column width in px: the narrowest pass, and what each tenfold of wall time adds (a log scale, so that a
#: 20 us pass stays visible beside a 100 ms wait for a client).
COLUMN_MIN = 16
COLUMN_PER_DECADE = 22
_GUTTER = 170
_ROW = 13
_LANE = 20

_CSS = """
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#1d1d1f;background:#fff}
h1{font-size:18px;margin:0 0 4px}
.summary{color:#444;margin:0 0 6px}
.note{background:#fff3c4;border:1px solid #e0c050;padding:6px 10px;margin:6px 0;border-radius:4px}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle;border-radius:2px}
.timeline{overflow-x:auto;border:1px solid #ccc;border-radius:4px;margin:8px 0}
svg text{font:11px system-ui,sans-serif;fill:#333}
svg .label{font-weight:600}
.col{fill:#fafafa;stroke:#e4e4e4;cursor:pointer}
.col.odd{fill:#f1f3f6}
.col.sel{fill:#fff6d5;stroke:#e0b000}
.mark{cursor:help}
.mark:hover{stroke:#000;stroke-width:1.5}
.wait-poll{fill:#d9d9d9}.wait-io{fill:#7fa7d9}.wait-timer{fill:#f2b35e}
.fd{fill:#3a9a5b}.wire{fill:#9b6cc8}.due{fill:#e08a1e}
.from-fd{fill:#6cc08b}.from-timer{fill:#f2b35e}.from-soon{fill:#8fb3e8}
.life{stroke:#bbb;stroke-width:2}
.created{fill:#fff;stroke:#555;stroke-width:1.5}.step{fill:#4a72c4}
.done.result{fill:#2e9d4f}.done.exception{fill:#d43c3c}.done.cancelled{fill:#888}
#tip{position:fixed;display:none;max-width:560px;background:#222;color:#fff;padding:5px 8px;border-radius:4px;
font:12px/1.35 ui-monospace,monospace;pointer-events:none;z-index:9;white-space:pre-wrap}
.panes{display:flex;gap:16px;align-items:flex-start}
.detail{font:12px/1.45 ui-monospace,monospace;white-space:pre-wrap;background:#f6f8fa;
border:1px solid #ddd;border-radius:4px;padding:8px;margin:0}
.source{font:12px/1.45 ui-monospace,monospace;background:#fbfbfb;border:1px solid #ddd;border-radius:4px;
padding:8px 0;margin:0;overflow:auto;max-height:520px;position:relative}
.source span{display:block;padding:0 8px;white-space:pre}
.source span.hit{background:#ffe27a}
.source b{display:inline-block;width:3em;color:#999;font-weight:normal;text-align:right;margin-right:1em}
h2{font-size:14px;margin:10px 0 4px}
"""

_SCRIPT = """
(function(){
var data=JSON.parse(document.getElementById('trace-data').textContent);
var tip=document.getElementById('tip');
document.querySelectorAll('.mark').forEach(function(m){
  m.addEventListener('mouseenter',function(e){tip.textContent=m.getAttribute('data-tip');tip.style.display='block';
    move(e);});
  m.addEventListener('mousemove',move);
  m.addEventListener('mouseleave',function(){tip.style.display='none';});
});
function move(e){tip.style.left=Math.min(e.clientX+14,window.innerWidth-580)+'px';tip.style.top=(e.clientY+16)+'px';}
function choose(n){
  document.querySelectorAll('.col.sel').forEach(function(c){c.classList.remove('sel');});
  var col=document.querySelector('.col[data-pass="'+n+'"]');if(col){col.classList.add('sel');}
  document.querySelectorAll('.source span.hit').forEach(function(s){s.classList.remove('hit');});
  var p=data.passes[n-1];if(!p){return;}
  var source=document.getElementById('source'),first=null;
  p.lines.forEach(function(l){var s=document.getElementById('L'+l);if(s){s.classList.add('hit');first=first||s;}});
  if(first){source.scrollTop=Math.max(0,first.offsetTop-source.clientHeight/3);}
  document.getElementById('detail').textContent=p.detail;
}
document.querySelectorAll('[data-pass]').forEach(function(el){
  el.addEventListener('click',function(){choose(+el.getAttribute('data-pass'));});
});
choose(data.initial);
})();
"""


def column_width(wall: float) -> float:
    """The width of a pass's column, in px, for its wall time in seconds (grows by COLUMN_PER_DECADE per tenfold)."""
    micros = max(wall, 0.0) * 1e6
    return round(COLUMN_MIN + COLUMN_PER_DECADE * math.log10(1 + micros / 10), 1)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _mark_rect(mark: Mark, x: float, y: float, width: float, height: float, css: str, shape: str = "rect") -> str:
    tip = _attr(mark.text)
    if shape == "circle":
        return (f'<circle class="mark {css}" data-pass="{mark.pass_number}" cx="{x:.1f}" cy="{y:.1f}" '
                f'r="{height / 2:.1f}" data-tip="{tip}"/>')
    return (f'<rect class="mark {css}" data-pass="{mark.pass_number}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" rx="2" data-tip="{tip}"/>')


def _select_kind(view: PassView) -> str:
    return "poll" if view.timeout == 0 else "io" if view.timeout is None else "timer"


def _detail(view: PassView) -> str:
    parts = [f"  {mark.text.split(': ', 1)[1]}" for mark in view.wire]
    if parts:
        parts.insert(0, "meanwhile on the server's side:")
    parts.append(view.select.text)
    if view.fds:
        parts.append("ready:\n" + "\n".join(f"  {mark.text}" for mark in view.fds))
    if view.timers:
        parts.append("timers due:\n" + "\n".join(f"  {mark.text}" for mark in view.timers))
    if view.callbacks:
        parts.append("callbacks, in order:\n" + "\n".join(f"  {mark.text.split(': ', 1)[1]}"
                                                          for mark in view.callbacks))
    if view.hidden_callbacks:
        parts.append(f"  ... and {view.hidden_callbacks} more callbacks, not drawn")
    parts.append(f"wall time {view.wall * 1e3:.3f} ms, starting {view.start * 1e3:.3f} ms into the trace")
    return "\n".join(parts)


def _timeline(trace: Trace) -> str:
    widths = [column_width(view.wall) for view in trace.passes]
    xs = [float(_GUTTER)]
    for width in widths:
        xs.append(xs[-1] + width)
    # Rows from the top: (label, y, height). The server's wire only when there is one (a GG example).
    wire_rows = max([len(view.wire) for view in trace.passes] + [0])
    heights = [("server's wire", wire_rows * _ROW), ("select", 16),
               ("ready fds", max([len(view.fds) for view in trace.passes] + [1]) * _ROW),
               ("timers due", max([len(view.timers) for view in trace.passes] + [1]) * _ROW),
               ("callbacks", max([len(view.callbacks) for view in trace.passes] + [1]) * _ROW)]
    rows: Dict[str, Tuple[str, int, int]] = {}
    y = 20
    for label, height in heights:
        if height:
            rows[label] = (label, y, height)
            y += height + 6
    lanes_top = y + 8
    height = lanes_top + len(trace.lanes) * _LANE + 8
    width = xs[-1] + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
           f'viewBox="0 0 {width:.0f} {height}">']
    for number in range(1, len(trace.passes) + 1):
        x, w = xs[number - 1], widths[number - 1]
        odd = " odd" if number % 2 else ""
        out.append(f'<rect class="col{odd}" data-pass="{number}" x="{x:.1f}" y="0" width="{w:.1f}" '
                   f'height="{height}"/>')
        if w >= 16 or number % 5 == 0 or number == 1:
            out.append(f'<text x="{x + 2:.1f}" y="12">{number}</text>')
    for label, y, _ in rows.values():
        out.append(f'<text class="label" x="6" y="{y + 11}">{label}</text>')
    for index, lane in enumerate(trace.lanes):
        out.append(f'<text class="label" x="6" y="{lanes_top + index * _LANE + 13}">{html.escape(lane.name)} '
                   f'<tspan font-weight="400">{html.escape(lane.coro)}()</tspan></text>')
    for number, view in enumerate(trace.passes, 1):
        x, w = xs[number - 1] + 1, widths[number - 1] - 2
        for row, mark in enumerate(view.wire):
            out.append(_mark_rect(mark, x, rows["server's wire"][1] + row * _ROW, w, _ROW - 2, "wire"))
        share = (view.select.duration or 0.0) / view.wall if view.wall > 0 else 0.0
        out.append(_mark_rect(view.select, x, rows["select"][1], max(3.0, w * min(share, 1.0)), 16,
                              f"select wait-{_select_kind(view)}"))
        for row, mark in enumerate(view.fds):
            out.append(_mark_rect(mark, x, rows["ready fds"][1] + row * _ROW, w, _ROW - 2, "fd"))
        for row, mark in enumerate(view.timers):
            out.append(_mark_rect(mark, x, rows["timers due"][1] + row * _ROW, w, _ROW - 2, "due"))
        for row, mark in enumerate(view.callbacks):
            out.append(_mark_rect(mark, x, rows["callbacks"][1] + row * _ROW, w, _ROW - 2,
                                  f"callback from-{mark.outcome}"))
    for index, lane in enumerate(trace.lanes):
        y = lanes_top + index * _LANE
        first, last = lane.marks[0].pass_number, lane.marks[-1].pass_number
        x0 = xs[first - 1] + 4
        x1 = xs[last] - 4 if lane.marks[-1].kind == "done" else xs[-1]
        out.append(f'<line class="life" x1="{x0:.1f}" y1="{y + 9}" x2="{x1:.1f}" y2="{y + 9}"/>')
        # Steps first, so that the circles for "created" and "done" are drawn over them.
        for mark in sorted(lane.marks, key=lambda mark: mark.kind != "step"):
            px, pw = xs[mark.pass_number - 1], widths[mark.pass_number - 1]
            if mark.kind == "created":
                out.append(_mark_rect(mark, px + 6, y + 9, 0, 10, "created", shape="circle"))
            elif mark.kind == "step":
                out.append(_mark_rect(mark, px + 2, y + 2, max(4.0, pw - 4), 14, "step"))
            else:
                out.append(_mark_rect(mark, px + pw - 7, y + 9, 0, 10, f"done {mark.outcome}", shape="circle"))
    out.append("</svg>")
    return "\n".join(out)


def _initial_pass(trace: Trace) -> int:
    # Open on the loop at work: the pass after a socket came back ready, running the example's code.
    for before, view in zip(trace.passes, trace.passes[1:]):
        if before.fds and view.lines:
            return view.number
    return 1 if trace.passes else 0


def render_page(trace: Trace) -> str:
    """The whole page, as text."""
    data = {
        "initial": _initial_pass(trace),
        "passes": [{"lines": list(view.lines), "detail": _detail(view)} for view in trace.passes],
    }
    # "</" would end the script element early; JSON allows the escaped form.
    payload = json.dumps(data).replace("</", "<\\/")
    summary = (f"{len(trace.passes)} passes of _run_once in {trace.wall * 1e3:.1f} ms: {trace.callbacks} callbacks "
               f"ran for {trace.callback_time * 1e3:.2f} ms, select waited {trace.select_time * 1e3:.1f} ms; "
               f"{len(trace.lanes)} task{'' if len(trace.lanes) == 1 else 's'}")
    note = f'<p class="note" id="note">{html.escape(trace.note)}</p>' if trace.note else ""
    widths = ", ".join(f"{column_width(seconds):.0f} px = {label}"
                       for seconds, label in ((1e-5, "10 us"), (1e-4, "100 us"), (1e-3, "1 ms"), (1e-2, "10 ms"),
                                              (1e-1, "100 ms")))
    wire_legend = ('<span><i style="background:#9b6cc8"></i>a packet on the server\'s side</span>\n'
                   if any(view.wire for view in trace.passes) else "")
    source = "".join(f'<span id="L{number}"><b>{number}</b>{html.escape(line)}</span>'
                       for number, line in enumerate(trace.source, 1))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(trace.title)}: every pass of _run_once</title>
<style>{_CSS}</style></head>
<body>
<h1>{html.escape(trace.title)}: every pass of <code>_run_once</code></h1>
<p class="summary">{html.escape(summary)}</p>
{note}
<p class="legend"><span><i style="background:#d9d9d9"></i>select polls (callbacks waiting)</span>
<span><i style="background:#7fa7d9"></i>select waits for a socket</span>
<span><i style="background:#f2b35e"></i>select waits for the next timer / timer callback</span>
{wire_legend}<span><i style="background:#6cc08b"></i>callback of a ready socket</span>
<span><i style="background:#8fb3e8"></i>call_soon callback</span>
<span><i style="background:#4a72c4"></i>task step</span>
<span><i style="background:#2e9d4f"></i>task returned</span>
<span><i style="background:#d43c3c"></i>raised</span>
<span><i style="background:#888"></i>cancelled</span></p>
<p class="summary">One column per pass; its width grows with the pass's wall time ({html.escape(widths)}); the select
bar's length is the share of the pass spent waiting. Hover a mark for what it is and where it was scheduled;
click a column to see that pass in full and the example's lines it touched.</p>
<div class="timeline">
{_timeline(trace)}
</div>
<div class="panes">
<div style="flex:0 0 44%"><h2>The chosen pass</h2><pre class="detail" id="detail"></pre></div>
<div style="flex:1;min-width:0"><h2>{html.escape(trace.source_name)}: the lines where this pass's tasks resumed and
stopped, and where its callbacks were scheduled</h2>
<pre class="source" id="source">{source}</pre></div>
</div>
<div id="tip"></div>
<script type="application/json" id="trace-data">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
