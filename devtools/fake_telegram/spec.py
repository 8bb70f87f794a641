"""Validate Bot API calls and objects against the machine-readable Telegram spec.

The spec (``api-10.0.min.json``, format described in ``shared/telegram/SOURCE.txt``) lists every
method with its parameters and every type with its fields; each field has a list of type strings
(``Integer``, ``String``, ``Float``, ``Boolean``, ``InputFile``, a type name or ``Array of X``)
and several entries mean a union. Abstract types (``InlineQueryResult``, ``BotCommandScope`` ...)
list their concrete ``subtypes``, told apart by a ``type``/``status``/``source`` field whose
description says ``must be X`` or ``always "X"``.

Usage::

    from devtools.fake_telegram.spec import validate_call, validate_object

    assert validate_call("sendMessage", {"chat_id": 1, "text": "hi"}) == []
    assert validate_object("InlineKeyboardMarkup", markup.to_dict()) == []

Errors are short strings without the ``Bad Request:`` prefix, e.g.
``parameter "chat_id" is required`` or ``reply_markup.inline_keyboard[0][0].callback_data:
BUTTON_DATA_INVALID (65 bytes, 1-64 allowed)``.

Top-level parameters may arrive as strings (form-urlencoded / multipart bodies, which is how
python-telegram-bot sends them): integers, floats and booleans are parsed from their text and
objects/arrays from JSON, like Telegram does. Inside JSON objects types are checked strictly.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.fake_telegram.html_entities import HtmlError, parse_html

SPEC_ENV = "MOVIEBOT_TELEGRAM_SPEC"
SPEC_NAME = "api-10.0.min.json"

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER = 200
MAX_COMMANDS = 100

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_PRIMITIVES = frozenset({"String", "Integer", "Float", "Boolean", "InputFile"})
_DISCRIMINATOR_FIELDS = ("type", "status", "source")
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always)\s+"?([A-Za-z_]+)"?')
_INT_RE = re.compile(r"-?\d+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
# Button fields that are not the button's action (exactly one action field must be set).
_BUTTON_DECORATION = frozenset({"text", "icon_custom_emoji_id", "style"})


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart/form-data request (what the spec calls ``InputFile``)."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Spec:
    """The loaded spec: methods and types keyed by name, plus derived discriminators."""

    version: str
    methods: dict[str, dict[str, Any]]
    types: dict[str, dict[str, Any]]
    discriminators: dict[str, tuple[str, str]]

    def method_fields(self, method: str) -> dict[str, dict[str, Any]]:
        """Return the parameters of ``method`` keyed by name (empty for getMe and friends)."""
        return {f["name"]: f for f in self.methods[method].get("fields", [])}

    def type_fields(self, type_name: str) -> dict[str, dict[str, Any]]:
        """Return the fields of ``type_name`` keyed by name."""
        return {f["name"]: f for f in self.types[type_name].get("fields", [])}


class SpecNotFoundError(FileNotFoundError):
    """The Bot API spec file is not where ``spec_path`` looks for it."""


def spec_path() -> Path:
    """Locate the spec: ``$MOVIEBOT_TELEGRAM_SPEC`` or ``<repo>/../shared/telegram/<name>``."""
    from_env = os.environ.get(SPEC_ENV)
    if from_env:
        return Path(from_env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "telegram" / SPEC_NAME


@functools.cache
def load_spec(path: str | None = None) -> Spec:
    """Load and index the spec once per path (``None`` means ``spec_path()``)."""
    file = Path(path) if path else spec_path()
    if not file.is_file():
        raise SpecNotFoundError(f"Telegram Bot API spec not found at {file} (set ${SPEC_ENV})")
    raw = json.loads(file.read_text(encoding="utf-8"))
    discriminators: dict[str, tuple[str, str]] = {}
    for type_def in raw["types"].values():
        for field in type_def.get("fields", []):
            if field["name"] in _DISCRIMINATOR_FIELDS:
                match = _DISCRIMINATOR_RE.search(field["description"])
                if match:
                    discriminators[type_def["name"]] = (field["name"], match.group(1))
                    break
    return Spec(raw["version"], raw["methods"], raw["types"], discriminators)


def validate_call(method: str, params: dict[str, Any]) -> list[str]:
    """Return the errors Telegram would report for calling ``method`` with ``params``."""
    return parse_call(method, params)[1]


def validate_object(type_name: str, value: Any) -> list[str]:
    """Return the errors in ``value`` (decoded JSON) as an instance of spec type ``type_name``."""
    return _check_type(load_spec(), type_name, value, type_name)


def parse_call(method: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Coerce ``params`` to their spec types and validate them.

    Returns the coerced parameters (integers as ``int``, JSON objects decoded ...) and the list
    of errors. An unknown method gives the single error ``Not Found``.
    """
    spec = load_spec()
    if method not in spec.methods:
        return {}, ["Not Found"]
    fields = spec.method_fields(method)
    errors: list[str] = []
    coerced: dict[str, Any] = {}
    for name, raw in params.items():
        field = fields.get(name)
        if field is None:
            errors.append(f'unknown parameter "{name}"')
            continue
        value, param_errors = _coerce_param(spec, field["types"], raw, name)
        if param_errors:
            errors.extend(param_errors)
        else:
            coerced[name] = value
    for name, field in fields.items():
        if field["required"] and name not in params:
            errors.append(_missing_message(method, name))
    if not errors:
        errors.extend(_limit_errors(method, coerced))
    return coerced, errors


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text left after Telegram parses ``parse_mode`` markup out of it (HTML exactly,
    Markdown approximately)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(text)[0]
        except HtmlError:  # callers check markup_errors first; this is only a best guess
            return html.unescape(re.sub(r"<[^>]*>", "", text))
    if mode in ("markdown", "markdownv2"):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        text = re.sub(r"(?<!\\)[*_~|`]", "", text)
        return re.sub(r"\\(.)", r"\1", text)
    return text


def markup_errors(text: Any, parse_mode: Any) -> list[str]:
    """Telegram's "can't parse entities" for ``text`` in ``parse_mode`` (HTML is checked)."""
    if not isinstance(text, str) or not isinstance(parse_mode, str):
        return []
    if parse_mode.lower() != "html":
        return []
    try:
        parse_html(text)
    except HtmlError as error:
        return [f"can't parse entities: {error}"]
    return []


def _missing_message(method: str, name: str) -> str:
    if name == "text" and method in ("sendMessage", "editMessageText"):
        return "message text is empty"
    return f'parameter "{name}" is required'


def _coerce_param(spec: Spec, type_strs: list[str], raw: Any, name: str) -> tuple[Any, list[str]]:
    """Turn one top-level parameter into its typed value, or explain why it does not fit."""
    first_errors: list[str] = []
    for type_str in type_strs:
        value, ok = _coerce_scalar(type_str, raw)
        if not ok:
            continue
        if type_str in _PRIMITIVES:
            return value, []
        errors = _check_type(spec, type_str, value, name)
        if not errors:
            return value, []
        if not first_errors or len(errors) < len(first_errors):
            first_errors = errors  # report the closest type of a union
    if first_errors:
        return None, first_errors
    if isinstance(raw, str) and not all(t in _PRIMITIVES for t in type_strs):
        return None, [f"can't parse {name} JSON object"]
    return None, [f'parameter "{name}" must be {" or ".join(type_strs)}, got {_describe(raw)}']


def _coerce_scalar(type_str: str, raw: Any) -> tuple[Any, bool]:
    """Parse a top-level value that may be text into ``type_str``; (value, fits)."""
    if type_str == "InputFile":
        return raw, isinstance(raw, UploadedFile)
    if isinstance(raw, UploadedFile):
        return None, False
    if type_str == "Integer":
        if isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()):
            return int(raw), True
        return raw, isinstance(raw, int) and not isinstance(raw, bool)
    if type_str == "Float":
        if isinstance(raw, str):
            try:
                return float(raw), True
            except ValueError:
                return None, False
        return raw, isinstance(raw, int | float) and not isinstance(raw, bool)
    if type_str == "Boolean":
        if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0"):
            return raw.lower() in ("true", "1"), True
        return raw, isinstance(raw, bool)
    if type_str == "String":
        return raw, isinstance(raw, str)
    if isinstance(raw, str):  # an object or array serialized as JSON text
        try:
            return json.loads(raw), True
        except ValueError:
            return None, False
    return raw, True


def _check_type(spec: Spec, type_str: str, value: Any, path: str) -> list[str]:
    """Check decoded JSON ``value`` against one type string (strict JSON types)."""
    if type_str.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected {type_str}, got {_describe(value)}"]
        inner = type_str.removeprefix("Array of ")
        errors: list[str] = []
        for i, item in enumerate(value):
            errors.extend(_check_type(spec, inner, item, f"{path}[{i}]"))
        return errors
    if type_str in _PRIMITIVES:
        return (
            []
            if _fits_primitive(type_str, value)
            else [f"{path}: expected {type_str}, got {_describe(value)}"]
        )
    type_def = spec.types.get(type_str)
    if type_def is None:
        return [f"{path}: unknown type {type_str}"]
    if type_def.get("subtypes"):
        return _check_union(spec, type_def, value, path)
    if not isinstance(value, dict):
        return [f"{path}: expected {type_str} object, got {_describe(value)}"]
    return _check_fields(spec, type_str, value, path)


def _check_union(spec: Spec, type_def: dict[str, Any], value: Any, path: str) -> list[str]:
    """An abstract type fits if one subtype whose discriminator matches fits."""
    if not isinstance(value, dict):
        return [f"{path}: expected {type_def['name']} object, got {_describe(value)}"]
    candidates = []
    for sub in type_def["subtypes"]:
        disc = spec.discriminators.get(sub)
        if disc is None or value.get(disc[0]) == disc[1]:
            candidates.append(sub)
    if not candidates:
        return [f"{path}: no {type_def['name']} subtype matches {_describe(value)}"]
    first: list[str] = []
    for sub in candidates:
        errors = _check_type(spec, sub, value, path)
        if not errors:
            return []
        if not first or len(errors) < len(first):
            first = errors
    return first


def _check_fields(spec: Spec, type_name: str, value: dict[str, Any], path: str) -> list[str]:
    fields = spec.type_fields(type_name)
    errors = [f'{path}: unknown field "{key}" in {type_name}' for key in value if key not in fields]
    for name, field in fields.items():
        if name not in value:
            if field["required"]:
                errors.append(f'{path}: field "{name}" of {type_name} is required')
            continue
        sub_path = f"{path}.{name}"
        attempts = [_check_type(spec, t, value[name], sub_path) for t in field["types"]]
        if all(attempts):
            errors.extend(min(attempts, key=len))
    if not errors:
        errors.extend(_object_limit_errors(type_name, value, path))
    return errors


def _fits_primitive(type_str: str, value: Any) -> bool:
    if type_str == "String":
        return isinstance(value, str)
    if type_str == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_str == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_str == "Boolean":
        return isinstance(value, bool)
    return isinstance(value, UploadedFile)  # InputFile


def _object_limit_errors(type_name: str, value: dict[str, Any], path: str) -> list[str]:
    """Telegram's own limits on objects, beyond the spec's types."""
    errors: list[str] = []
    if type_name == "InlineKeyboardButton":
        if not value.get("text"):
            errors.append(f"{path}.text: BUTTON_TEXT_INVALID (must be non-empty)")
        data = value.get("callback_data")
        if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            errors.append(
                f"{path}.callback_data: BUTTON_DATA_INVALID "
                f"({len(data.encode())} bytes, 1-{MAX_CALLBACK_DATA_BYTES} allowed)"
            )
        actions = [key for key in value if key not in _BUTTON_DECORATION]
        if len(actions) != 1:
            errors.append(
                f"{path}: an inline keyboard button needs exactly one action field, got {actions}"
            )
    elif type_name == "BotCommand":
        if not _COMMAND_RE.fullmatch(value["command"]):
            errors.append(f"{path}.command: BOT_COMMAND_INVALID ({value['command']!r})")
        if not 1 <= len(value["description"]) <= 256:
            errors.append(f"{path}.description: BOT_COMMAND_DESCRIPTION_INVALID")
    elif type_name == "InputTextMessageContent":
        markup = markup_errors(value["message_text"], value.get("parse_mode"))
        errors.extend(f"{path}.message_text: {error}" for error in markup)
        text = visible_text(value["message_text"], value.get("parse_mode")).strip()
        if not 1 <= len(text) <= MAX_TEXT:
            errors.append(f"{path}.message_text: MESSAGE_TOO_LONG or empty ({len(text)} chars)")
    elif type_name.startswith("InlineQueryResult") and not 1 <= len(value["id"].encode()) <= 64:
        errors.append(f"{path}.id: RESULT_ID_INVALID (1-64 bytes)")
    return errors


def _limit_errors(method: str, params: dict[str, Any]) -> list[str]:
    """Telegram's own limits on method parameters, beyond the spec's types."""
    errors: list[str] = []
    for field in ("text", "caption"):
        errors.extend(markup_errors(params.get(field), params.get("parse_mode")))
    if method == "sendPoll":
        errors.extend(markup_errors(params.get("question"), params.get("question_parse_mode")))
    if errors:
        return errors
    if "text" in params and method in ("sendMessage", "editMessageText"):
        text = visible_text(params["text"], params.get("parse_mode")).strip()
        if not text:
            errors.append("message text is empty")
        elif len(text) > MAX_TEXT:
            errors.append(f"message is too long ({len(text)} characters, at most {MAX_TEXT})")
    caption = params.get("caption")
    if isinstance(caption, str):
        visible = visible_text(caption, params.get("parse_mode"))
        if len(visible) > MAX_CAPTION:
            errors.append(
                f"message caption is too long ({len(visible)} characters, at most {MAX_CAPTION})"
            )
    if method == "answerInlineQuery":
        results = params.get("results", [])
        if len(results) > MAX_INLINE_RESULTS:
            errors.append(f"RESULTS_TOO_MUCH ({len(results)} results, at most 50)")
        ids = [r.get("id") for r in results]
        if len(ids) != len(set(ids)):
            errors.append("RESULT_ID_DUPLICATE")
    if method == "answerCallbackQuery" and len(params.get("text", "")) > MAX_CALLBACK_ANSWER:
        errors.append(f"MESSAGE_TOO_LONG (callback answer text over {MAX_CALLBACK_ANSWER})")
    if method == "setMyCommands" and len(params.get("commands", [])) > MAX_COMMANDS:
        errors.append("BOT_COMMANDS_TOO_MUCH")
    if method == "sendChatAction" and params.get("action") not in CHAT_ACTIONS:
        errors.append(f"wrong type of the chat action {params.get('action')!r}")
    return errors


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
