"""A scan's report as text (one line per finding, then a summary), JSON (the contract with `migrate`) or
SARIF 2.1.0 (for code-scanning services). Pure functions of a Report: nothing here reads files.
"""
from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import quote

from .rules import INFORMATIONAL, RULES, WARNING_ONLY, Rule

__all__ = ["SARIF_SCHEMA", "Finding", "Report", "to_json", "to_sarif", "to_text"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class Finding(NamedTuple):
    path: str
    line: int
    col: int  # 1-based, in characters
    code: str
    message: str
    kind: str  # the rule's kind, or INFORMATIONAL when reached through compat
    deprecated: Optional[str]
    breaks: Optional[str]  # None when reached through compat: it runs everywhere
    breaks_on_target: bool
    see: str

    def as_json(self) -> Dict[str, Any]:
        return dict(self._asdict())


class Report(NamedTuple):
    findings: List[Finding]
    files: int
    parsed: int
    unparsed: List[Tuple[str, str]]  # (path, reason)
    lines: int
    seconds: float
    target: str
    cpu_seconds: float = 0.0  # this process's own CPU time: the fair figure on a busy machine

    def by_code(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for finding in self.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
        return dict(sorted(counts.items()))

    def breaking(self) -> int:
        return sum(1 for finding in self.findings if finding.breaks_on_target)

    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def _versions(finding: Finding) -> str:
    parts = [f"deprecated {finding.deprecated}" if finding.deprecated else "not deprecated"]
    if finding.kind == INFORMATIONAL:
        parts.append(f"breaks {RULES[finding.code].breaks}; through compat it runs on 3.8-3.13: informational")
    elif finding.breaks:
        until = "; a warning only until then" if finding.kind == WARNING_ONLY else ""
        parts.append(f"breaks {finding.breaks}{until}")
    else:
        parts.append("warning only")
    return ", ".join(parts)


def to_text(report: Report) -> str:
    lines = [f"{f.path}:{f.line}:{f.col} {f.code} {f.message} ({_versions(f)}) -> {f.see}" for f in report.findings]
    if report.findings:
        lines.append("")
    lines.append("findings per code:" if report.findings else "findings: none")
    for code, count in report.by_code().items():
        lines.append(f"  {code} {count:>6}  {RULES[code].title}")
    unparsed = len(report.unparsed)
    lines.append(f"files: {report.files} scanned, {report.parsed} parsed, {unparsed} could not be read, "
                 f"decoded or parsed" + (":" if unparsed else ""))
    lines.extend(f"  {path}: {reason}" for path, reason in report.unparsed)
    cpu_rate = report.lines / report.cpu_seconds if report.cpu_seconds > 0 else 0.0
    lines.append(f"speed: {report.lines:,} lines of parsed files in {report.seconds:.2f} s = "
                 f"{report.lines_per_second():,.0f} lines/s ({report.cpu_seconds:.2f} s of CPU: "
                 f"{cpu_rate:,.0f} lines per CPU second)")
    breaking = report.breaking()
    lines.append(f"{breaking} finding(s) break on Python {report.target}" if breaking
                 else f"nothing found breaks on Python {report.target}")
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> str:
    document = {
        "findings": [finding.as_json() for finding in report.findings],
        "summary": {
            "files": report.files,
            "parsed": report.parsed,
            "unparsed": [{"path": path, "reason": reason} for path, reason in report.unparsed],
            "lines": report.lines,
            "seconds": round(report.seconds, 4),
            "by_code": report.by_code(),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def _uri(path: str) -> str:
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())


def _level(finding: Finding) -> str:
    # SARIF 2.1.0, 3.27.9: a result whose kind is not "fail" has level "none".
    if finding.kind == INFORMATIONAL:
        return "none"
    return "error" if finding.breaks_on_target else "warning"


def _sarif_rule(rule: Rule) -> Dict[str, Any]:
    versions = f"deprecated in Python {rule.deprecated or '-'}, breaks in {rule.breaks or '- (warning only)'}"
    help_text = (f"{rule.title}: {rule.kind}, {versions}. Way out: {rule.way_out}. "
                 f"See it done: {rule.see}. Sources: {rule.deprecated_source}; {rule.breaks_source}.")
    return {
        "id": rule.code,
        "name": rule.title.split("`")[1] if "`" in rule.title else rule.code,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} ({rule.kind}; {versions})"},
        "help": {"text": help_text,
                 "markdown": f"**{rule.title}** ({rule.kind}; {versions}).\n\nWay out: {rule.way_out}.\n\n"
                             f"See it done: `{rule.see}`\n\nSources: {rule.deprecated_source}; {rule.breaks_source}."},
        "defaultConfiguration": {"level": "warning" if rule.kind == WARNING_ONLY else "error"},
        "properties": {"kind": rule.kind, "deprecated": rule.deprecated, "breaks": rule.breaks,
                       "fixer": rule.fixer, "tags": ["migration", "python-upgrade"]},
    }


def to_sarif(report: Report, tool_version: str) -> str:
    codes = list(RULES)
    results = []
    for finding in report.findings:
        results.append({
            "ruleId": finding.code,
            "ruleIndex": codes.index(finding.code),
            "level": _level(finding),
            "kind": "informational" if finding.kind == INFORMATIONAL else "fail",
            "message": {"text": f"{finding.message} ({_versions(finding)}); see: {finding.see}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(finding.path)},
                "region": {"startLine": finding.line, "startColumn": finding.col},
            }}],
            "properties": {"breaksOnTarget": finding.breaks_on_target, "target": report.target},
        })
    notifications = [{
        "level": "warning",
        "message": {"text": f"not scanned: {reason}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(path)}}}],
    } for path, reason in report.unparsed]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gg-workbench scan",
                "version": tool_version,
                "rules": [_sarif_rule(RULES[code]) for code in codes],
            }},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"
