"""What every schema model shares: the base class, the JSON types tfbench uses, and one-line error messages.

A validation error becomes one line naming the file, the JSON path and what was expected, as
``suite.json: images[3].words[0].box: expected a list of 4 numbers, got [1, 2, 3]``. Geometry types take
the spellings the files use (flat or paired points) and say precisely what is wrong; everything else is
checked by pydantic's core and its error types are phrased here.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any, Callable, ClassVar, TypeVar

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError, ValidatorFunctionWrapHandler,
                      WithJsonSchema, WrapValidator)
from pydantic_core import PydanticCustomError

from tfbench.errors import TfbenchError

M = TypeVar("M", bound=BaseModel)


class SchemaModel(BaseModel):
    """A JSON object of a tfbench file: unknown keys are kept (files carry provenance tfbench does not read)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False, hide_input_in_errors=False)
    # field name -> message used for any error at that field (when the field has one meaning to explain)
    messages: ClassVar[dict[str, str]] = {}


class InstanceModel(SchemaModel):
    """An object that occurs tens of thousands of times in a file (a word, a face, an image): other keys are
    allowed and not kept (reading them into the model would cost time at TokBench's size for nothing)."""

    model_config = ConfigDict(extra="ignore")


def fail(kind: str, message: str, at: str = "", **ctx: Any) -> PydanticCustomError:
    """An error for a validator to raise; ``at`` extends the JSON path below the validated value
    (``words[0].box`` when an image checks its words against its size)."""
    return PydanticCustomError(f"tfbench.{kind}", message, {"json_path_below": at, **ctx} if at else ctx or None)


def _short(value: Any, n: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def finite(v: Any) -> bool:
    try:
        return is_number(v) and math.isfinite(v)
    except OverflowError:  # an integer beyond float range
        return False


def _rephrase(what: str, value: Any, exc: ValidationError) -> PydanticCustomError:
    """A core error inside a list of numbers, phrased as tfbench says it (``at``: the item that is wrong)."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    if loc and err["type"] in ("finite_number", "float_type", "float_parsing"):
        return fail("numbers", f"expected finite numbers, got {_short(err.get('input'), 40)}",
                    at="".join(f"[{k}]" for k in loc))
    return fail("numbers", f"expected {what}, got {_short(value)}")


def numbers_of(what: str) -> WrapValidator:
    """Core-validated list of numbers whose errors say ``expected <what>``."""

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            raise _rephrase(what, value, exc) from None

    return WrapValidator(wrap)


def points_of(n: int | None, at_least: int) -> WrapValidator:
    """Points given flat ``[x0, y0, x1, y1, ...]`` or paired ``[[x, y], ...]`` (paired before core validation)."""
    want = f"{n} [x, y] points" if n is not None else f"a polygon of at least {at_least} [x, y] points"

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, list) and value and not isinstance(value[0], (list, tuple)):  # flat: pair it up
            if len(value) % 2:
                raise fail("points", f"expected x, y pairs, got an odd count of {len(value)} numbers")
            value = [value[i:i + 2] for i in range(0, len(value), 2)]
        try:
            return handler(value)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = tuple(err["loc"])
            if len(loc) == 2 and err["type"] in ("finite_number", "float_type"):
                raise fail("numbers", f"expected finite numbers, got {_short(err.get('input'), 40)}",
                           at=f"[{loc[0]}][{loc[1]}]") from None
            if len(loc) == 1 and err["type"] in ("too_short", "too_long", "list_type"):
                raise fail("points", f"expected an [x, y] point, got {_short(err.get('input'), 40)}", at=f"[{loc[0]}]") from None
            raise fail("points", f"expected {want}, got {_short(value)}") from None

    return WrapValidator(wrap)


def _json_points(n: int | None, at_least: int) -> dict[str, Any]:
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    paired = {"type": "array", "items": pair, "minItems": n or at_least, **({"maxItems": n} if n else {})}
    flat = {"type": "array", "items": {"type": "number"}, "minItems": 2 * (n or at_least), **({"maxItems": 2 * n} if n else {})}
    return {"anyOf": [paired, flat], "description": "points as [[x, y], ...] or flat [x0, y0, x1, y1, ...]"}


def _name(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise fail("name", f"expected a non-empty string, got {_short(value, 40)}")
    return str(value)


_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
RESOLUTION = re.compile(r"^(\d{1,5}|native)$")  # a resolution name: the long side in pixels, or native


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise fail("sha256", f"expected 64 hex characters, got {_short(value, 70)}")
    return value


# --------------------------------------------------------------------------------------------- JSON types

FiniteFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Number = Annotated[float, Strict()]  # finite, or Infinity where a file may hold it (PSNR of identical crops)
PositiveFloat = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
Box = Annotated[list[FiniteFloat], Field(min_length=4, max_length=4), numbers_of("a list of 4 numbers [x0, y0, x1, y1]"),
                WithJsonSchema({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                                "description": "[x0, y0, x1, y1] in pixels"})]
Point = Annotated[list[FiniteFloat], Field(min_length=2, max_length=2)]
Landmarks = Annotated[list[Point], Field(min_length=5, max_length=5), points_of(5, 5), WithJsonSchema(_json_points(5, 5))]
Polygon = Annotated[list[Point], Field(min_length=3), points_of(None, 3), WithJsonSchema(_json_points(None, 3))]
Name = Annotated[str, BeforeValidator(_name), WithJsonSchema({"type": ["string", "integer"], "minLength": 1})]
Sha256 = Annotated[str, BeforeValidator(_sha256), WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"})]


def schema_tag(kind: str, version: int) -> str:
    return f"tfbench.{kind}/{version}"


def tag_type(kind: str, version: int) -> Any:
    """The type of a file's ``schema`` field: its one accepted value, with a message naming what was found."""
    tag = schema_tag(kind, version)

    def check(value: Any) -> str:
        if value != tag:
            raise fail("schema", f"unsupported {_short(value, 60)}; this tfbench reads {tag!r}")
        return value

    return Annotated[str, BeforeValidator(check), WithJsonSchema({"const": tag, "description": "file kind and version"})]


# --------------------------------------------------------------------------------------------- errors

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def json_path(loc: tuple[Any, ...]) -> str:
    """``("images", 3, "words", 0, "box")`` -> ``images[3].words[0].box``; keys that are not plain words are
    quoted (``details['a.jpg']``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "top level"


_GENERIC: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "missing (required)",
    "extra_forbidden": lambda e: "is not a field of this object (a typo?)",
    "model_type": lambda e: f"expected an object, got {type(e['input']).__name__}",
    "model_attributes_type": lambda e: f"expected an object, got {type(e['input']).__name__}",
    "dict_type": lambda e: f"expected an object, got {type(e['input']).__name__}",
    "list_type": lambda e: f"expected a list, got {type(e['input']).__name__}",
    "string_type": lambda e: f"expected a string, got {_short(e['input'], 40)}",
    "bool_type": lambda e: f"expected true or false, got {_short(e['input'], 40)}",
    "int_type": lambda e: f"expected an integer, got {_short(e['input'], 40)}",
    "float_type": lambda e: f"expected a number, got {_short(e['input'], 40)}",
    "finite_number": lambda e: f"expected a finite number, got {_short(e['input'], 40)}",
    "greater_than": lambda e: f"expected a number > {e['ctx']['gt']}, got {_short(e['input'], 40)}",
    "greater_than_equal": lambda e: f"expected a number >= {e['ctx']['ge']}, got {_short(e['input'], 40)}",
    "less_than_equal": lambda e: f"expected a number <= {e['ctx']['le']}, got {_short(e['input'], 40)}",
    "literal_error": lambda e: f"expected {e['ctx']['expected']}, got {_short(e['input'], 40)}",
    "enum": lambda e: f"expected {e['ctx']['expected']}, got {_short(e['input'], 40)}",
    "string_pattern_mismatch": lambda e: f"expected text matching {e['ctx']['pattern']}, got {_short(e['input'], 70)}",
    "string_too_short": lambda e: f"expected at least {e['ctx']['min_length']} characters, got {_short(e['input'], 40)}",
    "string_too_long": lambda e: f"expected at most {e['ctx']['max_length']} characters, got {len(e['input'])}",
    "too_short": lambda e: f"expected at least {e['ctx']['min_length']} items, got {e['ctx']['actual_length']}",
    "too_long": lambda e: f"expected at most {e['ctx']['max_length']} items, got {e['ctx'].get('actual_length', 'more')}",
    "recursion_loop": lambda e: "nested too deeply",
}


def _field_message(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The ``messages`` entry a model declares for the field at ``loc`` (walking nested models and lists);
    ``{got}`` in it is replaced by the offending value."""
    cls: Any = model
    for k, part in enumerate(loc):
        if isinstance(part, int) or not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        field = cls.model_fields.get(part)
        if field is None:
            field = next((f for f in cls.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        if k == len(loc) - 1:
            return cls.messages.get(part)
        cls = _model_in(field.annotation)
    return None


def _model_in(annotation: Any) -> Any:
    """The BaseModel class inside ``list[X]``, ``X | None``, ``dict[str, X]``, ``Annotated[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return _model_in(origin) if origin is not None and origin is not annotation else None


def describe_error(exc: ValidationError, model: type[BaseModel], source: str, at: str = "") -> str:
    """The first error of ``exc`` as one line: ``source: json.path: what was expected`` (``at``: the JSON path
    of the validated value inside its file, when it is not the whole file)."""
    err = exc.errors(include_url=False)[0]
    ctx = err.get("ctx") or {}
    loc = tuple(err["loc"])
    text = _field_message(model, loc) if err["type"] != "extra_forbidden" else None
    if text is not None:
        text = text.replace("{got}", _short(err.get("input"), 40))
    else:
        render = _GENERIC.get(err["type"])
        text = render(err) if render and (err["type"] in ("missing", "extra_forbidden") or "input" in err) else err["msg"]
    path = json_path(loc)
    below = ctx.get("json_path_below") if isinstance(ctx, dict) else None
    if below:
        path = below if path == "top level" else f"{path}{below}" if below.startswith("[") else f"{path}.{below}"
    if at:
        path = at if path == "top level" else f"{at}{path}" if path.startswith("[") else f"{at}.{path}"
    return f"{source}: {path}: {text}"


def validate(model: type[M], data: Any, source: str, error: type[TfbenchError] = TfbenchError,
             context: dict[str, Any] | None = None, at: str = "") -> M:
    """``model`` validated from ``data``, or ``error`` with one line naming ``source``, the JSON path and the fix
    (``at``: where ``data`` lies in its file, when it is a part of it)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise error(describe_error(exc, model, source, at)) from None
    except RecursionError:
        raise error(f"{source}: nested too deeply to be a tfbench file") from None
