"""What the bench learns of the machine and its processes: cores, limits, CPU time and RSS, pinning.

Linux first (/proc, sched_setaffinity); elsewhere each figure is None and pinning reports that it
could not be done, so that the table says so instead of failing.
"""
from __future__ import annotations

import os
import platform
import resource
import sys
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "cpu_seconds",
    "machine_info",
    "pin",
    "process_cpu_seconds",
    "raise_file_limit",
    "rss_kib",
    "usable_cpus",
]


def raise_file_limit() -> Tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (10,000 sessions need 10,000 descriptors); returns both."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft, hard


def usable_cpus() -> List[int]:
    """The cores this process may run on, lowest first."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def pin(pid: int, cpu: Optional[int]) -> bool:
    """Pin process `pid` (0: this one) to one core; False where the system does not allow it."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return False
    try:
        os.sched_setaffinity(pid, {cpu})
    except OSError:
        return False
    return True


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU time of another process (the server), from /proc; None where unreadable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: Optional[int] = None) -> Optional[int]:
    """VmRSS of a process (this one by default) in KiB, from /proc; None where unreadable."""
    try:
        with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


def _cpu_model() -> str:
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _uvloop_version() -> Optional[str]:
    try:
        import uvloop
    except ImportError:
        return None
    return str(getattr(uvloop, "__version__", "installed"))


def machine_info() -> Dict[str, Any]:
    """The machine, as the JSON report records it."""
    somaxconn = _read("/proc/sys/net/core/somaxconn")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cpus(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "uvloop": _uvloop_version(),
        "somaxconn": int(somaxconn) if somaxconn and somaxconn.isdigit() else None,
        "nofile_limit": [soft, hard],
    }
