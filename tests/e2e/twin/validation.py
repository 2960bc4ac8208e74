"""What the twin checks in every request the bot makes: request bodies against Discord's OpenAPI spec
(`SpecValidator`), the message rules the spec does not encode (content and embed lengths, unique custom_ids), and
the Discord-like error the bot gets back when it breaks one (`_ApiError`, 50035 Invalid Form Body)."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .protocol import CONTENT_LIMIT, DEFAULT_SPEC_PATH, EMBED_TOTAL_LIMIT, JSON, JSON_CONTENT_TYPE, SPEC_ENV_VAR

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------------------------
# Validation: OpenAPI request bodies + the rules the spec does not encode

Problem = tuple[tuple[str | int, ...], str, str]
"""A validation problem: (path into the body, Discord error code, message)."""

_SPEC_URI = "urn:discord-openapi"


def _relax_spec(spec: JSON) -> None:
    """Patch the spec where it is stricter than Discord itself, in place.

    * ``SnowflakeType`` is a digit string in the spec, but Discord accepts JSON integers and discord.py sends ints
      (``recipient_id``, ``message_reference.message_id``, ``allowed_mentions.users``, ...).
    * ``default_member_permissions`` is an integer in the spec; Discord (and discord.py) use a digit string.
    """
    schemas = spec["components"]["schemas"]
    snowflake = schemas["SnowflakeType"]
    schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    for schema in schemas.values():
        props = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(props, dict) and "default_member_permissions" in props:
            original = props["default_member_permissions"]
            props["default_member_permissions"] = {"anyOf": [original, {"type": "string", "pattern": r"^[0-9]+$"}]}


def _template_regex(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


class SpecValidator:
    """Validates request bodies against the Discord OpenAPI spec.

    A jsonschema validator is built once per (templated path, method) and cached.  Use :meth:`load` to get the
    process-wide instance for a spec file.
    """

    _instances: ClassVar[dict[tuple[Path, float], SpecValidator]] = {}

    def __init__(self, spec: JSON) -> None:
        spec = copy.deepcopy(spec)
        _relax_spec(spec)
        self._spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        templates = list(spec.get("paths", {}))
        # Prefer literal segments ("/users/@me") over parameters ("/users/{user_id}").
        templates.sort(key=lambda t: -sum(1 for s in t.split("/") if s and not s.startswith("{")))
        self._templates = [(_template_regex(t), t) for t in templates]
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator | None] = {}

    @classmethod
    def load(cls, path: Path) -> SpecValidator:
        """The cached validator for the spec at ``path`` (re-read when the file changes)."""
        key = (path.resolve(), path.stat().st_mtime)
        instance = cls._instances.get(key)
        if instance is None:
            started = time.perf_counter()
            instance = cls(json.loads(path.read_text(encoding="utf-8")))
            cls._instances[key] = instance
            log.info("loaded Discord OpenAPI spec %s in %.0f ms", path, (time.perf_counter() - started) * 1000)
        return instance

    def match(self, path: str) -> str | None:
        """The spec's templated path matching a concrete path relative to /api/v10 (or None)."""
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return None

    def body_required(self, template: str, method: str) -> bool:
        """Whether the spec marks the request body of ``method template`` as required."""
        operation = self._spec["paths"].get(template, {}).get(method.lower(), {})
        return bool(operation.get("requestBody", {}).get("required", False))

    def _validator(self, template: str, method: str) -> jsonschema.protocols.Validator | None:
        key = (template, method.lower())
        if key not in self._validators:
            operation = self._spec["paths"].get(template, {}).get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            if JSON_CONTENT_TYPE not in content:
                self._validators[key] = None
            else:
                escaped = template.replace("~", "~0").replace("/", "~1")
                pointer = f"/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
                schema = {"$ref": f"{_SPEC_URI}#{quote(pointer)}"}
                self._validators[key] = jsonschema.Draft202012Validator(schema, registry=self._registry)
        return self._validators[key]

    def validate(self, template: str, method: str, body: Any) -> list[Problem]:
        """Problems with ``body`` for ``method template`` (empty when valid or when the spec has no JSON body)."""
        validator = self._validator(template, method)
        if validator is None:
            return []
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        best = jsonschema.exceptions.best_match(errors)
        problems: list[Problem] = []
        for error in [best, *[e for e in errors if e is not best][:4]]:
            if error is None:
                continue
            message = error.message if len(error.message) <= 200 else f"{error.message[:100]} ... {error.message[-80:]}"
            problems.append((tuple(error.absolute_path), "BASE_TYPE_INVALID", message))
        return problems


def resolve_spec_path() -> Path:
    """The spec path: ``$FOOTNOTE_DISCORD_SPEC`` if set, else ``shared/discord/openapi.json`` beside the repo."""
    override = os.environ.get(SPEC_ENV_VAR)
    return Path(override) if override else DEFAULT_SPEC_PATH


def embed_total_length(embeds: Iterable[Mapping[str, Any]] | None) -> int:
    """Characters Discord counts toward the 6000 limit across all of a message's embeds."""
    total = 0
    for embed in embeds or ():
        if not isinstance(embed, Mapping):
            continue
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        for fld in embed.get("fields") or ():
            if isinstance(fld, Mapping):
                total += len(fld.get("name") or "") + len(fld.get("value") or "")
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        total += len(footer.get("text") or "") if isinstance(footer, Mapping) else 0
        total += len(author.get("name") or "") if isinstance(author, Mapping) else 0
    return total


def iter_components(components: Iterable[Any] | None) -> Iterable[Mapping[str, Any]]:
    """Every component in a (possibly nested, components-v2) component tree, depth first."""
    for component in components or ():
        if not isinstance(component, Mapping):
            continue
        yield component
        yield from iter_components(component.get("components"))
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, Mapping):
                yield from iter_components([child])


def message_rule_problems(message: Mapping[str, Any]) -> list[Problem]:
    """Problems with a message body that the OpenAPI spec does not encode."""
    problems: list[Problem] = []
    content = message.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        problems.append((("content",), "BASE_TYPE_MAX_LENGTH", f"Must be {CONTENT_LIMIT} or fewer in length."))
    embeds = message.get("embeds")
    if isinstance(embeds, list):
        total = embed_total_length(embeds)
        if total > EMBED_TOTAL_LIMIT:
            problems.append(
                (
                    ("embeds",),
                    "MAX_EMBED_SIZE_EXCEEDED",
                    f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT} (got {total}).",
                )
            )
    seen: set[str] = set()
    for component in iter_components(message.get("components")):
        custom_id = component.get("custom_id")
        if isinstance(custom_id, str):
            if custom_id in seen:
                problems.append(
                    (
                        ("components",),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        f"Component custom id cannot be duplicated ({custom_id!r}).",
                    )
                )
            seen.add(custom_id)
    return problems


def discord_error_tree(problems: Iterable[Problem]) -> JSON:
    """Nest problems the way Discord's 50035 "Invalid Form Body" errors are shaped."""
    root: JSON = {}
    for path, code, message in problems:
        node = root
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return root


class _ApiError(Exception):
    """Raised inside route handlers to answer with a Discord-like error (and optionally record a violation)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        rule: str | None = None,
        detail: str | None = None,
        errors: JSON | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.rule = rule
        self.detail = detail or message
        self.errors = errors

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _invalid_form(problems: Sequence[Problem], rule: str) -> _ApiError:
    detail = "; ".join(f"{'.'.join(map(str, p)) or '<body>'}: {m}" for p, _, m in problems)
    return _ApiError(400, 50035, "Invalid Form Body", rule=rule, detail=detail, errors=discord_error_tree(problems))
