"""FastAPI's validation errors as one sentence and the parameter at fault, so a ``limit=0`` the
framework refuses reads like a ``created_after=yesterday`` refused by our own code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parley.api.write_schemas import NUL_FREE

_PARAMETER_SOURCES = ("query", "path", "header", "cookie")


@dataclass(frozen=True, slots=True)
class Invalid:
    detail: str
    parameter: str | None  # None: the request as a whole is malformed (e.g. a body that is not JSON)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _parameter(location: Sequence[object]) -> str | None:
    if not location:
        return None
    source, rest = location[0], location[1:]
    if source in _PARAMETER_SOURCES:
        # ("query", "status", 0): the third part is the index of a repeated parameter.
        return str(rest[0]) if rest else None
    if source == "body":
        # A JSON or form field; positions inside lists stay, so "items.2.name" is findable.
        return ".".join(str(part) for part in rest) or None
    return ".".join(str(part) for part in location)


def _bound(word: str, key: str) -> Callable[[str, Mapping[str, Any]], str]:
    return lambda name, ctx: f"{name} must be {word} {ctx.get(key)}."


def _length(word: str, key: str) -> Callable[[str, Mapping[str, Any]], str]:
    return lambda name, ctx: f"{name} must be {word} {ctx.get(key)} characters long."


_SENTENCES: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "missing": lambda name, _ctx: f"{name} is required.",
    "int_parsing": lambda name, _ctx: f"{name} must be a whole number.",
    "int_type": lambda name, _ctx: f"{name} must be a whole number.",
    "int_from_float": lambda name, _ctx: f"{name} must be a whole number.",
    "float_parsing": lambda name, _ctx: f"{name} must be a number.",
    "float_type": lambda name, _ctx: f"{name} must be a number.",
    "bool_parsing": lambda name, _ctx: f"{name} must be true or false.",
    "bool_type": lambda name, _ctx: f"{name} must be true or false.",
    "greater_than_equal": _bound("at least", "ge"),
    "greater_than": _bound("greater than", "gt"),
    "less_than_equal": _bound("at most", "le"),
    "less_than": _bound("less than", "lt"),
    "string_too_long": _length("at most", "max_length"),
    "string_too_short": _length("at least", "min_length"),
    # The one pattern the write API's text fields carry (``write_schemas.NUL_FREE``).
    "string_pattern_mismatch": lambda name, ctx: (
        f"{name} must not contain a NUL character."
        if ctx.get("pattern") == NUL_FREE
        else f"{name} must match the pattern {ctx.get('pattern')}."
    ),
    # pydantic phrases the allowed values already: "'inbound' or 'outbound'".
    "enum": lambda name, ctx: f"{name} must be {ctx.get('expected')}.",
    "literal_error": lambda name, ctx: f"{name} must be {ctx.get('expected')}.",
}


def describe(error: Mapping[str, Any]) -> Invalid:
    """One pydantic error as a sentence naming what to fix."""
    kind = str(error.get("type", ""))
    location = tuple(error.get("loc", ()))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if kind == "json_invalid":
        reason = ctx.get("error", message)
        return Invalid(f"The request body is not valid JSON ({reason}).", None)
    parameter = _parameter(location)
    if parameter is None:
        if location[:1] == ("body",):
            return Invalid(
                _sentence(f"The request body is not valid: {message[:1].lower()}{message[1:]}"), None
            )
        return Invalid(_sentence(f"The request is not valid: {message}"), None)
    if kind == "value_error":
        return Invalid(_sentence(message), parameter)
    sentence = _SENTENCES.get(kind)
    if sentence is not None:
        return Invalid(sentence(parameter, ctx), parameter)
    return Invalid(_sentence(f"{parameter} is not valid: {message[:1].lower()}{message[1:]}"), parameter)


def describe_all(errors: Sequence[Mapping[str, Any]]) -> Invalid:
    """Every error's sentence, in order and once each; the parameter is the first error's."""
    described = [describe(error) for error in errors] or [Invalid("The request is not valid.", None)]
    sentences = list(dict.fromkeys(item.detail for item in described))
    return Invalid(" ".join(sentences), described[0].parameter)
