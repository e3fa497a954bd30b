"""Templates: compiled in a jinja2 sandbox, variables checked against their declared schema.

What a template may do is deliberately small:

* it runs in `SandboxedEnvironment`: no attribute starting with `_`, no unsafe callables, so
  `{{ ''.__class__.__mro__ }}` and friends raise instead of reaching Python internals;
* it may reference only the variables it declares (checked when it is saved), and each value is
  validated against the declared type before rendering;
* variable values are data, never template source: `{{ 7*7 }}` in a value is printed as typed;
* the HTML part is autoescaped; the subject must render to one line (no header injection);
* output, loops, assignments, filters and arithmetic are bounded (`sandbox.py`), so a template
  cannot exhaust memory or CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import jinja2
from jinja2 import meta
from jinja2.exceptions import SecurityError
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, StrictBool, ValidationError, create_model
from pydantic import Field as PydanticField

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import RenderedV1, VariableSpecV1, VariableType
from mimic.domain.addresses import check_email, check_header_value
from mimic.domain.errors import MimicError
from mimic.domain.sandbox import MAX_OUTPUT_CHARS, Unsafe, environment, harden, render_budget

MAX_SUBJECT_CHARS: Final = 998

_TEXT_ENV: Final = environment(html=False)
_HTML_ENV: Final = environment(html=True)


@dataclass(frozen=True)
class TemplateSpec:
    """A template as stored: its parts' sources and declared variables."""

    key: str
    version: int
    subject: str
    text: str | None
    html: str | None
    variables: Mapping[str, VariableSpecV1]
    description: str = ""
    system: bool = False


@dataclass(frozen=True)
class CompiledTemplate:
    spec: TemplateSpec
    subject: jinja2.Template
    text: jinja2.Template | None
    html: jinja2.Template | None
    schema: type[BaseModel] = field(repr=False)

    def render(self, variables: Mapping[str, Any]) -> RenderedV1:
        values = validate_variables(self.schema, self.spec.variables, variables)
        subject = _render(self.subject, values, "subject").strip()
        check_header_value(subject, field="the rendered subject")
        if not subject:
            raise MimicError(MimicErrorCode.TEMPLATE_INVALID, "the subject renders empty")
        if len(subject) > MAX_SUBJECT_CHARS:
            raise MimicError(MimicErrorCode.TEMPLATE_UNSAFE, "the subject renders too long")
        return RenderedV1(
            subject=subject,
            text=_render(self.text, values, "text") if self.text is not None else None,
            html=_render(self.html, values, "html") if self.html is not None else None,
        )


def compile_template(spec: TemplateSpec) -> CompiledTemplate:
    """Parse every part, check it uses only declared variables; `mimic.template_invalid` if not."""
    declared = set(spec.variables)
    parts: dict[str, jinja2.Template | None] = {}
    for name, source, env in (
        ("subject", spec.subject, _TEXT_ENV),
        ("text", spec.text, _TEXT_ENV),
        ("html", spec.html, _HTML_ENV),
    ):
        if source is None:
            parts[name] = None
            continue
        try:
            tree = env.parse(source)
            # Unknown filters and tests are found here too (TemplateAssertionError).
            unknown = meta.find_undeclared_variables(tree) - declared - set(env.globals)
            if unknown:
                raise MimicError(
                    MimicErrorCode.TEMPLATE_INVALID,
                    f"{name} uses undeclared variables: {', '.join(sorted(unknown))}",
                )
            parts[name] = env.from_string(harden(tree))
        except jinja2.TemplateSyntaxError as exc:
            raise MimicError(
                MimicErrorCode.TEMPLATE_INVALID, f"{name}: line {exc.lineno}: {exc.message}"
            ) from None
        except Unsafe as exc:
            raise MimicError(MimicErrorCode.TEMPLATE_UNSAFE, f"{name}: {exc}") from None
    subject = parts["subject"]
    assert subject is not None
    return CompiledTemplate(
        spec=spec,
        subject=subject,
        text=parts["text"],
        html=parts["html"],
        schema=variables_model(spec.key, spec.variables),
    )


def _render(template: jinja2.Template, values: Mapping[str, Any], part: str) -> str:
    out: list[str] = []
    size = 0
    try:
        # Streamed, so a template producing too much is stopped before memory fills up.
        with render_budget():
            for chunk in template.generate(values):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise MimicError(MimicErrorCode.TEMPLATE_UNSAFE, f"{part} renders too long")
                out.append(chunk)
    except (SecurityError, RecursionError) as exc:
        raise MimicError(MimicErrorCode.TEMPLATE_UNSAFE, f"{part}: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise MimicError(MimicErrorCode.TEMPLATE_INVALID, f"{part}: {exc.message}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # Type mismatches in expressions: the template's fault, not a crash of the service.
        raise MimicError(
            MimicErrorCode.TEMPLATE_INVALID, f"{part}: {type(exc).__name__}: {exc}"
        ) from None
    return "".join(out)


# ---------------------------------------------------------------------------- variables
_TYPES: Final[dict[VariableType, Any]] = {
    VariableType.STRING: str,
    VariableType.INTEGER: int,
    VariableType.NUMBER: float,
    VariableType.BOOLEAN: StrictBool,
    VariableType.URL: AnyHttpUrl,
    VariableType.EMAIL: str,
}


def variables_model(key: str, specs: Mapping[str, VariableSpecV1]) -> type[BaseModel]:
    """A pydantic model of the declared variables; unknown variables are refused."""
    fields: dict[str, Any] = {}
    for name, spec in specs.items():
        kind = _TYPES[spec.type]
        constraints: dict[str, Any] = {}
        if spec.max_length is not None and spec.type in (
            VariableType.STRING,
            VariableType.URL,
            VariableType.EMAIL,
        ):
            constraints["max_length"] = spec.max_length
        default: Any = ... if spec.required else None
        annotation: Any = kind if spec.required else kind | None
        fields[name] = (annotation, PydanticField(default, **constraints))
    model: type[BaseModel] = create_model(
        f"Variables_{key.replace('.', '_').replace('-', '_')}",
        __config__=ConfigDict(extra="forbid", strict=False, frozen=True),
        **fields,
    )
    return model


def validate_variables(
    schema: type[BaseModel], specs: Mapping[str, VariableSpecV1], variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The variables as the template sees them, or `mimic.variables_invalid` saying why."""
    try:
        model = schema.model_validate(dict(variables))
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            value = getattr(model, name)
            if isinstance(value, AnyHttpUrl):
                value = str(value)
            elif value is not None and spec.type is VariableType.EMAIL:
                value = check_email(value, field=f"variable {name}")
            values[name] = value
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(variables)'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise MimicError(MimicErrorCode.VARIABLES_INVALID, problems[:600]) from None
    except MimicError as exc:
        raise MimicError(MimicErrorCode.VARIABLES_INVALID, exc.message) from None
    return values


_SAMPLES: Final[dict[VariableType, Any]] = {
    VariableType.STRING: "sample",
    VariableType.INTEGER: 1,
    VariableType.NUMBER: 1.5,
    VariableType.BOOLEAN: True,
    VariableType.URL: "https://example.com/",
    VariableType.EMAIL: "someone@example.com",
}


def trial_render(compiled: CompiledTemplate) -> RenderedV1:
    """Render with a sample of every declared variable: catches unsafe or broken templates when
    they are saved rather than when the first email is due (branches not taken can still fail
    later, and are then refused with the same codes)."""
    values: dict[str, Any] = {}
    for name, spec in compiled.spec.variables.items():
        sample = _SAMPLES[spec.type]
        if isinstance(sample, str) and spec.type is VariableType.STRING and spec.max_length:
            sample = sample[: spec.max_length]
        values[name] = sample
    return compiled.render(values)
