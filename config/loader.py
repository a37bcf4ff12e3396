"""Read ``talentwatch.toml`` into ``Settings``, or say everything that is wrong with it.

A user who edits the file of a running daemon sees the reload refused with
one line per problem, each naming the key as they wrote it
(``feeds[2].interval``), so a single pass fixes the whole file. pydantic's
own wording and dotted locations never reach them.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from config.schema import Settings
from monitor.errors import ConfigError

_VARIABLE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_POSITION = re.compile(r"^(?P<message>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")
_TOML_TYPES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}

Location = tuple[int | str, ...]
Problem = tuple[Location, str]
_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[\]:]+)")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Load, substitute and validate the config file at ``path``.

    ``env`` defaults to ``os.environ``; tests and reloads pass their own so
    nothing depends on the process environment by accident. Raises
    ConfigError listing every problem found, in the order of the file.
    """
    path = Path(path)
    return parse_config(_read_text(path), path, env)


def parse_config(text: str, path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Validate config ``text`` as if it had been read from ``path``.

    ``path`` anchors relative paths and names the file in errors; the text
    itself may come from elsewhere (an editor buffer, a test, a reload that
    already holds the bytes).
    """
    path = Path(path)
    raw = _parse_toml(path, text)
    problems: list[Problem] = []
    data = _substitute(raw, os.environ if env is None else env, (), problems)
    unresolved = {loc for loc, _ in problems}
    if "path" in data:
        problems.append((("path",), "unknown key (the file's own location is not a setting)"))
        del data["path"]
    data["path"] = path.absolute()
    data.setdefault("storage", {})  # so the default database path is resolved against base_dir too
    try:
        settings = Settings.model_validate(data, context={"base_dir": path.absolute().parent})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if any(error["loc"][: len(loc)] == loc for loc in unresolved):
                continue  # the unresolved ${VAR} is the problem, already reported
            problems.extend(_describe(error))
    if problems:
        raise ConfigError(str(path), _in_file_order(problems, raw))
    return settings


def key_path(loc: Location) -> str:
    """``("feeds", 2, "url")`` -> ``"feeds[2].url"``, the way a user reads the file."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# ── reading ──────────────────────────────────────────────────────────────────


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), ["is a directory, not a config file"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot be read: {exc.strerror or exc}"]) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"is not UTF-8 text (bad byte at offset {exc.start})"]) from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    text = text.removeprefix("\ufeff")  # editors on Windows like to start with a byte-order mark
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [_toml_problem(exc)]) from None


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = _TOML_POSITION.match(message)
    if match is None:
        return f"not valid TOML: {message}"
    line, column = match["line"], match["column"]
    return f"line {line}, column {column}: not valid TOML: {match['message']}"


# ── ${VAR} ───────────────────────────────────────────────────────────────────


def _substitute(value: Any, env: Mapping[str, str], loc: Location, problems: list[Problem]) -> Any:
    """Replace ``${VAR}`` (and ``${VAR:-default}``) in every string value; ``$${`` stays ``${``."""
    if isinstance(value, dict):
        return {key: _substitute(item, env, (*loc, key), problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, env, (*loc, i), problems) for i, item in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$${":
            return "${"
        inner = match[1]
        if inner is None:
            problems.append((loc, "'${' is not closed (write $${ for a literal '${')"))
            return match[0]
        name, has_default, default = inner.partition(":-")
        if not _NAME.fullmatch(name):
            problems.append((loc, f"${{{inner}}} is not a valid environment variable reference"))
            return match[0]
        if name in env:
            return env[name]
        if has_default:
            return default
        problems.append((loc, f"environment variable {name} is not set"))
        return match[0]

    return _VARIABLE.sub(replace, value)


# ── pydantic errors → our messages ───────────────────────────────────────────


def _describe(error: ErrorDetails) -> list[Problem]:
    kind, value = error["type"], error.get("input")
    loc: Location = error["loc"]
    if kind != "extra_forbidden":
        loc = tuple(part for part in loc if not _is_union_tag(part))
    ctx = error.get("ctx") or {}
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        return [_relative(loc, line) for line in str(ctx["error"]).splitlines()]
    return [(loc, _problem(kind, loc, value, ctx, error["msg"]))]


def _relative(loc: Location, line: str) -> Problem:
    """Checks over a whole array say which item is wrong: "[1].url: duplicate of feeds[0]"."""
    if not line.startswith(("[", ".")):
        return loc, line
    where, _, message = line.partition(": ")
    steps: list[int | str] = []
    for index, name in _STEP.findall(where):
        steps.append(int(index) if index else name)
    return (*loc, *steps), message


def _in_file_order(problems: list[Problem], data: dict[str, Any]) -> list[str]:
    """One "key.path: problem" line each, in the order their keys appear in the file."""
    order: dict[Location, int] = {}

    def number(value: Any, loc: Location) -> None:
        order[loc] = len(order)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            number(item, (*loc, key))

    number(data, ())

    def position(problem: Problem) -> int:
        loc = problem[0]
        while loc not in order:
            loc = loc[:-1]
        return order[loc]

    lines = [f"{key_path(loc)}: {message}" for loc, message in sorted(problems, key=position)]
    return list(dict.fromkeys(lines))


def _problem(kind: str, loc: Location, value: Any, ctx: dict[str, Any], fallback: str) -> str:
    got = _toml_type(value)
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(loc)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind == "string_type":
        return f"expected a string, got {got}"
    if kind in ("tuple_type", "list_type"):
        return f"expected an array, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a table, got {got}" + _array_hint(loc, value)
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        if isinstance(value, str):
            return f"{_short(value)!r} is not one of {expected}"
        return f"expected one of {expected}, got {got}"
    if kind == "too_short":
        if isinstance(value, str):
            return "cannot be empty"
        needed = ctx.get("min_length", 1)
        return "is empty: at least one is needed" if needed == 1 else f"needs at least {needed} items"
    if kind == "string_too_short":
        return "cannot be empty"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        word = "at least" if kind == "greater_than_equal" else "more than"
        return f"{value!r} is too small: must be {word} {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "less than"
        return f"{value!r} is too large: must be {word} {bound}"
    if kind == "path_type":
        return f"expected a file path, got {got}"
    return fallback


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _toml_type(value: Any) -> str:
    for kind, name in _TOML_TYPES.items():
        if isinstance(value, kind):
            shown = repr(_short(value) if isinstance(value, str) else value) if kind not in (dict, list) else ""
            if kind is bool:
                shown = str(value).lower()
            return f"{name} {shown}".rstrip()
    return type(value).__name__


def _array_hint(loc: Location, value: Any) -> str:
    if isinstance(value, list) and loc and isinstance(loc[-1], str):
        return f" (write [{key_path(loc)}] once, not [[{key_path(loc)}]])"
    return ""


def _suggestion(loc: Location) -> str:
    """A did-you-mean from the keys allowed beside the unknown one."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    allowed = [field.alias or name for name, field in model.model_fields.items()]
    if model is Settings:
        allowed.remove("path")
    close = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(sorted(allowed))})"


def _model_at(loc: Location) -> type[BaseModel] | None:
    """The model that validates the table at ``loc``, found by walking the annotations."""
    current: Any = Settings
    for part in loc:
        current = _element(current) if isinstance(part, int) else _field_type(current, part)
        if current is None:
            return None
    return _as_model(current)


def _field_type(model: Any, name: str) -> Any:
    model = _as_model(model)
    if model is None:
        return None
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            return field.annotation
    return None


def _element(annotation: Any) -> Any:
    for candidate in _unwrap(annotation):
        if typing.get_origin(candidate) in (tuple, list):
            args = typing.get_args(candidate)
            return args[0] if args else None
    return None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an Optional/Union/Annotated annotation, innermost first."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            found += _unwrap(arg)
        return found
    return [annotation]


def _is_union_tag(part: int | str) -> bool:
    # pydantic names the union member it tried ("bool", "tuple[str, ...]",
    # "function-after[...]"); users know only their own keys.
    return isinstance(part, str) and ("[" in part or part in ("bool", "str", "int", "float", "none"))
