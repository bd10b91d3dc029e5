"""Work done in another process beside the build's own (the machine's second core), and the
rule that no such process outlives the build.

A child started here closes the pipe end it does not use, so a write to a parent that is
gone fails instead of blocking for ever; on Linux the kernel ends it when its parent dies
(``PR_SET_PDEATHSIG``), elsewhere a thread watches for the parent to change. Programs a
child starts (Pagefind) get the same death signal through :func:`die_with_parent`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable

from generator.errors import BuildError, DigestError, write_error

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent process ends (Linux). Safe to call
    between fork and exec (``subprocess.Popen(preexec_fn=...)``)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch_parent(parent: int) -> None:
    """Where there is no death signal: end this process soon after its parent is gone."""
    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            threading.Event().wait(0.5)
    threading.Thread(target=watch, daemon=True).start()


_HELD = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_held():
    """Ctrl+C and SIGTERM held back for the block (delivered when it ends)."""
    held = hasattr(signal, "pthread_sigmask")
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


class Background:
    """``func(*args)`` run in a forked process; ``result`` waits for it and returns its value
    or raises its DigestError. Where processes cannot be forked, it runs at once, in this
    process. Only for pure stages and ones that write their own folder: nothing the caller
    reads is changed behind its back."""

    def __init__(self, func: Callable, *args: object) -> None:
        self._process = None
        if "fork" not in multiprocessing.get_all_start_methods():
            self._outcome = self._call(func, args)
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=self._run, args=(os.getpid(), self._receive, send, func, args), daemon=True)
        # Ctrl+C and kills wait while the process is forked: one that reached the child
        # before it set its own handlers would print the parent's KeyboardInterrupt there.
        # Held back here, it is the parent's after the fork, and the child's to ignore.
        with _signals_held():
            self._process.start()
        send.close()

    @staticmethod
    def _call(func: Callable, args: tuple) -> tuple[bool, object]:
        try:
            return True, func(*args)
        except DigestError as exc:
            return False, exc
        except OSError as exc:  # a full disk, a folder it may not write
            return False, write_error(exc)

    @classmethod
    def _run(cls, parent: int, receive, send, func: Callable, args: tuple) -> None:
        # Ctrl+C reaches every process of the terminal's group: the parent unwinds and stops
        # this one, which says nothing (no traceback of a helper, ever); a plain kill ends it
        # at once.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
        try:
            receive.close()  # only the parent reads: a dead parent makes the send fail
            die_with_parent()
            if os.getppid() != parent:  # the parent died before the signal was armed
                os._exit(1)
            _watch_parent(parent)
            send.send(cls._call(func, args))
            send.close()
        except BaseException:  # the parent is gone, or the result cannot be sent: say nothing
            os._exit(1)
        # Not multiprocessing's exit, which runs the parent's exit handlers in this copy.
        os._exit(0)

    def result(self):
        if self._process is not None:
            try:
                self._outcome = self._receive.recv()
            except EOFError:
                self._outcome = False, BuildError(
                    f"{self._process.name} stopped without finishing",
                    fix="run the build again; if it stops again, report it")
            finally:
                self._receive.close()
            self._process.join()
            self._process = None
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """Stop the process if it still runs (the build failed elsewhere)."""
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._receive.close()
            self._process = None
