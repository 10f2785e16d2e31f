"""Declarative input schemas: one description validates JSON and forms and generates the OpenAPI text.

Pure: dicts in, cleaned dicts out, `ValidationError` naming every bad field at once.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from appliance.domain.errors import ValidationError

_JSON_TYPES = {"string": "string", "int": "integer", "bool": "boolean", "datetime": "string", "list": "array",
               "object": "object", "id": "integer", "ids": "array", "any": ""}


@dataclass(frozen=True)
class Field:
    """One input field: its type, limits and whether it must be given."""

    name: str
    type: str = "string"  # string, int, bool, datetime, list (of strings), object, id (a positive int)
    required: bool = False
    nullable: bool = False
    max_length: int = 200
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    help: str = ""
    check: Callable[[Any], str | None] | None = None  # extra rule: returns a problem or None

    def clean(self, value: Any, from_form: bool = False) -> Any:
        """The value converted and checked; raises ValueError with the problem."""
        if value is None or (from_form and value == "" and self.type not in ("string", "bool")):
            if self.nullable or (from_form and not self.required):
                return None
            raise ValueError("must not be null")
        cleaned = getattr(self, "_clean_" + self.type)(value, from_form)
        if self.check is not None:
            problem = self.check(cleaned)
            if problem:
                raise ValueError(problem)
        return cleaned

    def _clean_string(self, value: Any, from_form: bool) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        value = value.strip()
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if self.required and not value:
            raise ValueError("must not be empty")
        if self.choices and value not in self.choices:
            raise ValueError("must be one of " + ", ".join(self.choices))
        return value

    def _clean_int(self, value: Any, from_form: bool) -> int:
        if from_form and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise ValueError("must be a whole number") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum}")
        return value

    def _clean_id(self, value: Any, from_form: bool) -> int:
        value = self._clean_int(value, from_form)
        if value < 1 or value > 2**62:
            raise ValueError("must be a positive id")
        return value

    def _clean_bool(self, value: Any, from_form: bool) -> bool:
        if from_form and isinstance(value, str):
            return value.lower() in ("1", "on", "true", "yes")
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    def _clean_datetime(self, value: Any, from_form: bool) -> datetime.datetime:
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string")
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time such as 2025-01-31T14:00:00Z") from None
        if parsed.tzinfo is not None:  # stored as naive UTC
            parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return parsed

    def _clean_list(self, value: Any, from_form: bool) -> list[str]:
        if from_form and isinstance(value, str):
            value = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of strings")
        if len(value) > 100:
            raise ValueError("must have at most 100 entries")
        if any(len(v) > self.max_length for v in value):
            raise ValueError(f"entries must be at most {self.max_length} characters")
        return [v.strip() for v in value]

    def _clean_ids(self, value: Any, from_form: bool) -> list[int]:
        if from_form and isinstance(value, str):
            try:
                value = [int(v) for v in value.replace(",", " ").split()]
            except ValueError:
                raise ValueError("must be a list of ids") from None
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**62
                                                  for v in value):
            raise ValueError("must be a list of positive ids")
        if len(value) > 1000:
            raise ValueError("must have at most 1000 entries")
        return list(dict.fromkeys(value))

    def _clean_any(self, value: Any, from_form: bool) -> Any:
        if from_form and isinstance(value, str):
            import json
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("must be JSON") from None
        return value

    def _clean_object(self, value: Any, from_form: bool) -> dict:
        if from_form and isinstance(value, str):
            import json
            try:
                value = json.loads(value or "{}")
            except ValueError:
                raise ValueError("must be a JSON object") from None
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        return value

    def openapi(self) -> dict[str, Any]:
        """This field as an OpenAPI schema property."""
        prop: dict[str, Any] = {"type": _JSON_TYPES[self.type]} if _JSON_TYPES[self.type] else {}
        if self.type == "string":
            prop["maxLength"] = self.max_length
        if self.type == "datetime":
            prop["format"] = "date-time"
        if self.type == "list":
            prop["items"] = {"type": "string"}
        if self.type == "ids":
            prop["items"] = {"type": "integer"}
        if self.choices:
            prop["enum"] = list(self.choices)
        if self.minimum is not None:
            prop["minimum"] = self.minimum
        if self.maximum is not None:
            prop["maximum"] = self.maximum
        if self.nullable:
            prop["nullable"] = True
        if self.help:
            prop["description"] = self.help
        return prop


@dataclass(frozen=True)
class Schema:
    """A set of fields; unknown keys are errors so a typo never passes silently."""

    name: str
    fields: tuple[Field, ...] = field(default_factory=tuple)

    def by_name(self) -> dict[str, Field]:
        """The fields keyed by name."""
        return {f.name: f for f in self.fields}

    def validate(self, data: Any, partial: bool = False, from_form: bool = False) -> dict[str, Any]:
        """Cleaned values; `partial` (PATCH) checks only the fields given. Raises ValidationError."""
        if not isinstance(data, Mapping):
            raise ValidationError({"body": "must be a JSON object"})
        known = self.by_name()
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        for key in data:
            if key not in known and not (from_form and key == "csrf_token"):
                errors[str(key)[:100]] = "unknown field"
        for name, spec in known.items():
            if name not in data:
                if spec.required and not partial:
                    errors[name] = "is required"
                elif not partial and spec.default is not None:
                    out[name] = spec.default
                continue
            try:
                out[name] = spec.clean(data[name], from_form)
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)
        return out

    def openapi(self) -> dict[str, Any]:
        """This schema as an OpenAPI object schema."""
        schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                  "properties": {f.name: f.openapi() for f in self.fields}}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        return schema


def require_keys(data: Mapping[str, Any], names: Iterable[str]) -> None:
    """Raise naming every key of `names` missing from `data`."""
    missing = {n: "is required" for n in names if data.get(n) in (None, "")}
    if missing:
        raise ValidationError(missing)
