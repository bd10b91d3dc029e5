"""The peak memory of every process a command starts: each process's high-water mark
(``VmHWM`` in /proc, Linux), sampled five times a second until the command ends.

    python benchmarks/peaks.py digest build --full

``getrusage`` gives the largest child only, once it has been waited for; this names each
process of the build (its helpers, Pagefind, MkDocs) with its own peak. A process that lives
less than a sample's time may be missed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as listing:
                found += [int(child) for child in listing.read().split()]
    except OSError:
        pass
    return found


def _peak_and_name(pid: int) -> tuple[int, str] | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            text = status.read()
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            name = cmdline.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return None
    if "VmHWM:" not in text:
        return None
    return int(text.split("VmHWM:")[1].split()[0]) // 1024, name


def main(command: list[str]) -> int:
    if not command:
        print("usage: python benchmarks/peaks.py COMMAND [ARG ...]", file=sys.stderr)
        return 2
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peaks: dict[tuple[int, str], int] = {}
    while process.poll() is None:
        todo, tree = [process.pid], []
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += _children(pid)
        for pid in tree:
            found = _peak_and_name(pid)
            if found:
                key = (pid, found[1])
                peaks[key] = max(peaks.get(key, 0), found[0])
        time.sleep(0.2)
    print(f"exit status {process.returncode}, {time.perf_counter() - start:.1f} s")
    print("| peak MiB | process |\n| ---: | --- |")
    for (pid, name), mib in sorted(peaks.items(), key=lambda item: (-item[1], item[0])):
        print(f"| {mib:,} | {pid} {name[:100]} |")
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
