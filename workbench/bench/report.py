"""The bench's outputs: a table on stdout, a JSON file with every figure, an SVG chart drawn by hand.

Ratios compare medians: each client's CPU time per round trip (RSS per session in D) against the aio
variant's and against the best raw ceiling's. The goals of issue 7 are checked on the same medians.
"""
from __future__ import annotations

import datetime
import html
import json
from typing import Any, Dict, List, Optional, Tuple

from .runner import BenchResults
from .scenarios import IDLE, PIPELINE, ROUND_TRIPS, ROUTE, Scenario
from .worker import VARIANTS

__all__ = ["goals", "primary_figure", "ratios", "svg", "table", "to_json", "write_json", "write_svg"]

#: The variant every ratio is taken against first: where the migration ends.
REFERENCE = "aio"


def primary_figure(scenario: Scenario) -> str:
    """The figure that compares clients fairly in this scenario: lower is better."""
    return "rss_per_session_bytes" if scenario.kind == IDLE else "cpu_us_per_rt"


def _median(results: BenchResults, variant: str, key: str, figure: str) -> Optional[float]:
    stats = results.summary(variant, key)["figures"].get(figure)
    return stats["median"] if stats else None


def ratios(results: BenchResults) -> Dict[str, Dict[str, Dict[str, Optional[float]]]]:
    """scenario -> variant -> {"vs_aio", "vs_best_raw"} on the scenario's primary figure."""
    table: Dict[str, Dict[str, Dict[str, Optional[float]]]] = {}
    for scenario in results.scenarios:
        if scenario.kind == ROUTE:
            continue
        figure = primary_figure(scenario)
        values = {v: _median(results, v, scenario.key, figure) for v in results.variants}
        raw = [x for v, x in values.items() if VARIANTS[v].family == "raw" and x]
        best_raw = min(raw) if raw else None
        reference = values.get(REFERENCE)
        table[scenario.key] = {
            v: {"vs_aio": x / reference if x is not None and reference else None,
                "vs_best_raw": x / best_raw if x is not None and best_raw else None}
            for v, x in values.items()
        }
    return table


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return numerator / denominator if numerator is not None and denominator else None


def goals(results: BenchResults) -> List[Dict[str, Any]]:
    """Issue 7's goals, each with the measured value, the target and whether it was met (None: not measured)."""
    def med(variant: str, key: str, figure: str) -> Optional[float]:
        if variant not in results.variants or key not in {s.key for s in results.scenarios}:
            return None
        return _median(results, variant, key, figure)

    found: List[Dict[str, Any]] = []

    # The goals name the full sizes (B1 100 sessions, D3 and E2 10,000): --quick shows the values, judges none.
    judged = not results.options.quick

    def goal(text: str, value: Optional[float], limit: float, at_most: bool = True,
             spread: Optional[Tuple[float, float]] = None) -> None:
        met = None if value is None or not judged else (value <= limit if at_most else value >= limit)
        entry = {"goal": text, "value": value, "target": f"{'<=' if at_most else '>='} {limit:g}", "met": met}
        if spread is not None:
            entry["spread"] = list(spread)
        found.append(entry)

    def spread_of(variant: str, ceiling: str, key: str, figure: str) -> Optional[Tuple[float, float]]:
        """The ratio's lowest and highest over the runs (a row's best against the other's worst): a
        verdict on medians whose spread straddles the goal is the machine's, not the code's."""
        if results.options.runs < 2 or med(variant, key, figure) is None or med(ceiling, key, figure) is None:
            return None
        ours = results.summary(variant, key)["figures"][figure]
        theirs = results.summary(ceiling, key)["figures"][figure]
        if not theirs["min"]:
            return None
        return ours["min"] / theirs["max"], ours["max"] / theirs["min"]

    cpu = "cpu_us_per_rt"
    goal("raw-modern.loop client CPU per round trip at B1, as a multiple of raw-uvloop's",
         _ratio(med("raw-modern.loop", "B1", cpu), med("raw-uvloop", "B1", cpu)), 1.1)
    goal("yieldfrom (on modern.loop) CPU per round trip at B1, as a multiple of naive-streams'",
         _ratio(med("yieldfrom", "B1", cpu), med("naive-streams", "B1", cpu)), 0.5)
    goal("aio CPU per round trip at B1, as a multiple of raw-buffered's",
         _ratio(med("aio", "B1", cpu), med("raw-buffered", "B1", cpu)), 1.3)
    for variant in results.variants:
        if VARIANTS[variant].waits_with == "epoll" and VARIANTS[variant].available() is None:
            goal(f"E2: {variant} keeps this share of its one-session rate (A)",
                 _ratio(med(variant, "E2", "rate"), med(variant, "A", "rate")), 0.8, at_most=False)
    goal("E2: dispatcher@asyncio rate as a multiple of dispatcher-poll's (asyncore)",
         _ratio(med("dispatcher@asyncio", "E2", "rate"), med("dispatcher-poll", "E2", "rate")), 10, at_most=False)
    if "D3" in {s.key for s in results.scenarios}:
        missing = [v for v in results.variants if v != "dispatcher-select" and VARIANTS[v].available() is None
                   and med(v, "D3", "rss_per_session_bytes") is None]
        found.append({"goal": "D3: every variant but dispatcher-select holds all its idle sessions",
                      "value": f"{len(missing)} missing" + (f": {', '.join(missing)}" if missing else ""),
                      "target": "0 missing", "met": not missing if judged else None})
    for variant in ("yieldfrom", "aio"):
        goal(f"D3: {variant} client RSS per idle logged-in session, bytes",
             med(variant, "D3", "rss_per_session_bytes"), 4096)
    # Issue 13: each GG client against the raw ceiling on the same loop (a GG round trip does about
    # twice a raw one's wire work).
    for variant, ceiling, limit in _ISSUE_13_B1:
        goal(f"issue 13, B1: {variant} CPU per round trip as a multiple of {ceiling}'s",
             _ratio(med(variant, "B1", cpu), med(ceiling, "B1", cpu)), limit,
             spread=spread_of(variant, ceiling, "B1", cpu))
    return found


_ISSUE_13_B1 = (
    ("aio", "raw-buffered", 2.5),
    ("callbacks", "raw-reactor", 2.2),
    ("yieldfrom", "raw-modern.loop", 2.5),
    ("yieldfrom@asyncio", "raw-protocol", 3.0),
    ("dispatcher-select", "raw-reactor", 3.0),
    ("dispatcher-poll", "raw-reactor", 3.0),
    ("dispatcher@asyncio", "raw-reactor", 3.0),
)


# --- the table ------------------------------------------------------------------------------------

def _number(value: Optional[float], unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}{unit}"
    if abs(value) >= 100:
        return f"{value:.0f}{unit}"
    if abs(value) >= 10:
        return f"{value:.1f}{unit}"
    return f"{value:.2f}{unit}"


def _stat(stats: Optional[Dict[str, float]], runs: int) -> str:
    if not stats:
        return "-"
    text = _number(stats["median"])
    if runs > 1:
        text += f" [{_number(stats['min'])}-{_number(stats['max'])}]"
    return text


def _columns(scenario: Scenario) -> List[Tuple[str, str]]:
    if scenario.kind == IDLE:
        return [("rss_per_session_bytes", "RSS bytes/session"), ("ping_round_ms", "ping round ms"),
                ("open_seconds", "open s")]
    if scenario.kind == ROUTE:
        return [("rate", "messages/s"), ("cpu_us_per_rt", "client CPU us/msg"),
                ("server_cpu_us_per_msg", "server CPU us/msg"),
                ("server_rss_per_session_bytes", "server RSS B/session")]
    return [("rate", "round trips/s"), ("cpu_us_per_rt", "CPU us/round trip")]


def _header(results: BenchResults) -> List[str]:
    machine, setup = results.machine, results.setup
    when = datetime.datetime.fromtimestamp(results.started).strftime("%Y-%m-%d %H:%M")
    runs = results.options.runs
    return [
        f"gg-workbench bench{' --quick' if results.options.quick else ''}: {when}, Python {machine['python']}, "
        f"{machine['cpu_model']} ({machine['cores']} cores)",
        f"{runs} run{'s' if runs > 1 else ''} per cell" + (", median [min-max]" if runs > 1 else "")
        + "; CPU is the client process's own (getrusage user+system) in the measured window",
        f"pinning: {setup.get('pinning', '-')}",
        f"GG server: {setup.get('gg_server')}; raw ceilings' server: {setup.get('echo_server') or '-'}; "
        f"uvloop {machine.get('uvloop') or 'not installed'}",
        f"listen backlog: {setup.get('listen_backlog', '-')}; sessions open {setup.get('open_concurrency')} at a "
        f"time; RLIMIT_NOFILE raised to {machine.get('nofile_limit', ['-'])[-1]}",
    ]


def _render(rows: List[Tuple[List[str], str]]) -> List[str]:
    """Aligned columns; a row with a single cell (a variant that could not run) has only its note."""
    width = len(rows[0][0])
    widths = [max(len(cells[i]) for cells, _ in rows if len(cells) == width) for i in range(width)]
    widths[0] = max(len(cells[0]) for cells, _ in rows)
    lines = []
    for index, (cells, note) in enumerate(rows):
        if len(cells) == width:
            text = "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells))
        else:
            text = cells[0].ljust(widths[0])
        lines.append(("  " + text + (f"  {note}" if note else "")).rstrip())
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def table(results: BenchResults) -> str:
    """The readable table: one block per scenario, one row per variant, then the goals."""
    lines = _header(results)
    all_ratios = ratios(results)
    for scenario in results.scenarios:
        lines += ["", scenario.title]
        columns = _columns(scenario)
        heading = ["variant"] + [title for _, title in columns]
        if scenario.kind in (ROUND_TRIPS, PIPELINE, IDLE):
            heading += ["x aio", "x best raw"]
        if scenario.kind == ROUND_TRIPS and scenario.idle:
            heading.append("of A")
        rows: List[Tuple[List[str], str]] = [(heading, "")]
        names = [results.setup.get("route_driver", "")] if scenario.kind == ROUTE else results.variants
        for variant in names:
            summary = results.summary(variant, scenario.key)
            label = variant if scenario.kind != ROUTE else f"reference server, driven by {variant}"
            if not summary["figures"]:
                rows.append(([label], summary["note"] or VARIANTS[variant].available() or "no result"))
                continue
            row = [label] + [_stat(summary["figures"].get(name), summary["runs"]) for name, _ in columns]
            if scenario.kind != ROUTE:
                ratio = all_ratios.get(scenario.key, {}).get(variant, {})
                row += [_number(ratio.get("vs_aio")), _number(ratio.get("vs_best_raw"))]
            if scenario.kind == ROUND_TRIPS and scenario.idle:
                share = _ratio(_median(results, variant, scenario.key, "rate"), _median(results, variant, "A", "rate"))
                row.append(f"{share:.0%}" if share is not None else "-")
            rows.append((row, f"({summary['note']})" if summary["note"] else ""))
        lines += _render(rows)
    quick = results.options.quick
    lines += ["", "Goals (issue 7), on the medians above" + (" (not judged: --quick runs smaller sizes)" if quick
                                                                else "") + ":"]
    for entry in goals(results):
        unjudged = "-" if quick and entry["value"] is not None else "not measured"
        mark = "met" if entry["met"] else unjudged if entry["met"] is None else "MISSED"
        value = entry["value"]
        shown = _number(value) if isinstance(value, (int, float)) else str(value)
        if "spread" in entry:
            low, high = entry["spread"]
            shown += f" (runs: {_number(low)}-{_number(high)})"
        lines.append(f"  [{mark}] {entry['goal']}: {shown} (goal {entry['target']})")
    return "\n".join(lines) + "\n"


# --- JSON -----------------------------------------------------------------------------------------

def to_json(results: BenchResults) -> Dict[str, Any]:
    """Every figure of every run, the summaries, the ratios and the goals, with the machine and date."""
    cells: Dict[str, Dict[str, Any]] = {}
    for variant in dict.fromkeys([*results.variants, results.setup.get("route_driver", "")]):
        for scenario in results.scenarios:
            if (variant, scenario.key) in results.runs:
                summary = results.summary(variant, scenario.key)
                cells.setdefault(variant, {})[scenario.key] = {
                    "figures": summary["figures"],
                    "note": summary["note"],
                    "not_possible": summary["not_possible"],
                    "runs": results.runs[(variant, scenario.key)],
                }
    return {
        "date": datetime.datetime.fromtimestamp(results.started, datetime.timezone.utc).isoformat(),
        "duration_seconds": round(results.finished - results.started, 1),
        "python": results.machine["python"],
        "machine": results.machine,
        "setup": results.setup,
        "options": {"quick": results.options.quick, "runs": results.options.runs},
        "scenarios": [dict(vars(s), title=s.title) for s in results.scenarios],
        "variants": [{"name": v, "family": VARIANTS[v].family, "waits_with": VARIANTS[v].waits_with,
                      "available": VARIANTS[v].available() is None} for v in results.variants],
        "results": cells,
        "ratios": ratios(results),
        "goals": goals(results),
    }


def write_json(results: BenchResults, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(to_json(results), handle, indent=1)
        handle.write("\n")


def write_svg(results: BenchResults, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(svg(results))


# --- SVG ------------------------------------------------------------------------------------------

#: (scenario, figure, title) of each panel, when that scenario ran.
_PANELS = [
    ("B1", "cpu_us_per_rt", "client CPU per round trip, us (lower is better)"),
    ("A", "cpu_us_per_rt", "client CPU per round trip, us (lower is better)"),
    ("E2", "rate", "round trips/s of the one busy session (higher is better)"),
    ("D3", "rss_per_session_bytes", "client RSS per idle session, bytes (lower is better)"),
]
_COLOURS = {"gg": "#3b6ea5", "raw": "#9a9a9a"}
_LABEL_WIDTH = 150
_BAR_WIDTH = 420
_ROW = 18


def svg(results: BenchResults) -> str:
    """A bar chart per panel: one bar per variant, a whisker from min to max, the median written beside."""
    keys = {s.key: s for s in results.scenarios}
    panels = [(keys[key], figure, title) for key, figure, title in _PANELS if key in keys]
    width = _LABEL_WIDTH + _BAR_WIDTH + 200
    height = 50 + sum(40 + _ROW * len(results.variants) for _ in panels)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="8" y="18" font-size="13" font-weight="bold">'
             f'{html.escape(_header(results)[0])}</text>',
             f'<rect x="8" y="28" width="10" height="10" fill="{_COLOURS["gg"]}"/>'
             f'<text x="22" y="37">GG clients (reference server)</text>'
             f'<rect x="200" y="28" width="10" height="10" fill="{_COLOURS["raw"]}"/>'
             f'<text x="214" y="37">raw ceilings, 48-byte frames (echo server)</text>'
             f'<text x="470" y="37">bar: median; line: min to max</text>']
    y = 50
    for scenario, figure, title in panels:
        parts.append(f'<text x="8" y="{y + 20}" font-weight="bold">{html.escape(scenario.title)}: '
                     f'{html.escape(title)}</text>')
        y += 30
        stats = {v: results.summary(v, scenario.key) for v in results.variants}
        top = max((s["figures"][figure]["max"] for s in stats.values() if figure in s["figures"]), default=0) or 1
        for variant in results.variants:
            summary = stats[variant]
            parts.append(f'<text x="{_LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{html.escape(variant)}</text>')
            figures = summary["figures"].get(figure)
            if figures is None:
                note = summary["note"] or VARIANTS[variant].available() or "no result"
                parts.append(f'<text x="{_LABEL_WIDTH + 4}" y="{y + 12}" fill="#a33">'
                             f'{html.escape(note[:90])}</text>')
            else:
                scale = _BAR_WIDTH / top
                bar = max(1.0, figures["median"] * scale)
                colour = _COLOURS[VARIANTS[variant].family]
                low, high = _LABEL_WIDTH + figures["min"] * scale, _LABEL_WIDTH + figures["max"] * scale
                parts += [
                    f'<rect x="{_LABEL_WIDTH}" y="{y + 3}" width="{bar:.1f}" height="{_ROW - 6}" fill="{colour}"/>',
                    f'<line x1="{low:.1f}" x2="{high:.1f}" y1="{y + 9}" y2="{y + 9}" stroke="black"/>',
                    f'<text x="{_LABEL_WIDTH + max(bar, high - _LABEL_WIDTH) + 6:.1f}" y="{y + 12}">'
                    f'{html.escape(_number(figures["median"]))}</text>',
                ]
            y += _ROW
        y += 10
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
