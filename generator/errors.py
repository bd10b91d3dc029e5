"""One exception family for everything a user can get wrong.

Only ``cli.py`` turns these into messages; every other module raises them with the place
(file and line) and the fix, so the message reads ``FILE:LINE: what is wrong - how to fix it``.
"""

from __future__ import annotations


class DigestError(Exception):
    """Bad input or a failed step that the user can fix."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None,
                 fix: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        place = ""
        if self.path is not None:
            place = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        fix = f" - {self.fix}" if self.fix else ""
        return f"{place}{self.message}{fix}"


class ParseError(DigestError):
    """An input digest (page text, API JSON, archive YAML) cannot be read."""


class ConfigError(DigestError):
    """The site config or the taxonomy is invalid."""


class FetchError(DigestError):
    """The daily-papers API could not be reached or answered badly."""


class BuildError(DigestError):
    """Rendering or building the site failed."""


class ErrorList(DigestError):
    """Several problems found at once; each is reported on its own line."""

    def __init__(self, errors: list[DigestError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class ParseErrorList(ErrorList, ParseError):
    """Several parse errors: still a ParseError, so readers raise nothing else."""


class ConfigErrorList(ErrorList, ConfigError):
    """Several config or taxonomy errors."""


def write_error(exc: OSError, what: str = "the site") -> BuildError:
    """A failed write of a build (a full disk, a folder it may not write) as one line."""
    return BuildError(f"cannot write {what}: {exc.strerror or exc}", path=exc.filename,
                      fix="check free space and permissions; the previous site is unchanged")


def raise_all(errors: list[DigestError]) -> None:
    """Raise the one problem, or all of them as one error of their common kind."""
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    if all(isinstance(e, ParseError) for e in errors):
        raise ParseErrorList(errors)
    if all(isinstance(e, ConfigError) for e in errors):
        raise ConfigErrorList(errors)
    raise ErrorList(errors)
