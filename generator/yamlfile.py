"""YAML a person edits (archive days, the taxonomy) -> plain data with line numbers, or one
error naming the file, the line and the fix.

Pure: only processes data. Every mapping keeps the line it starts on under ``__line__``, for
messages; a key written twice in one mapping is an error (YAML's own rule, which PyYAML does
not enforce: it keeps the last value without a word).
"""

from __future__ import annotations

import difflib

import yaml

from generator.errors import DigestError, ParseError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Where each mapping starts, in the loaded data.
LINE = "__line__"


class LineLoader(_Loader):
    """A safe loader that keeps the line of every mapping under ``__line__`` and refuses a
    key written twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: the constructor below says so
                continue
            if first != key_node.start_mark.line + 1:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is written twice (first at line {first})",
                    key_node.start_mark)
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping

    def construct_yaml_timestamp(self, node):
        # "2026-02-30" looks like a date to YAML, and PyYAML raises a plain ValueError.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"'{node.value}' is not a day of the calendar ({exc})",
                node.start_mark) from exc


LineLoader.add_constructor("tag:yaml.org,2002:timestamp", LineLoader.construct_yaml_timestamp)


def load(text: str, path: str, *, error: type[DigestError] = ParseError,
         fix: str = "correct the YAML syntax (quote text that holds ': ' or '#')") -> object:
    """YAML text -> data; any problem is one ``error`` with the file and line."""
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if "written twice" in problem:
            fix = "keep one of them"
        elif "day of the calendar" in problem:
            fix = "correct the date (YYYY-MM-DD)"
        raise error(f"not valid YAML: {problem}", path=path,
                    line=mark.line + 1 if mark else 1, fix=fix) from exc
    except RecursionError as exc:
        raise error("nested too deeply to read", path=path, line=1,
                    fix="this is not a digest file; check what was saved") from exc
    except ValueError as exc:  # an integer of more digits than Python reads
        raise error(f"a value cannot be read: {exc}", path=path, line=1,
                    fix="correct or remove the number") from exc


def did_you_mean(name: object, choices: tuple[str, ...]) -> str:
    """The fix for an unknown field: the closest known one, else the list of them."""
    close = difflib.get_close_matches(str(name), choices, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "known fields: " + ", ".join(choices)
