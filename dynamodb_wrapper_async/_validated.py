"""Pydantic base that turns pydantic's ValidationError into ours at the model boundary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import pydantic
from pydantic._internal._model_construction import ModelMetaclass
from typing_extensions import Self

from .exceptions import ValidationError


def describe_errors(
    error: pydantic.ValidationError, *, names: Mapping[str, str] | None = None
) -> str:
    """Summarise pydantic errors as ``field: message`` pairs, never echoing input values."""
    parts = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        loc = [str(part) for part in detail["loc"]]
        if names and loc and loc[0] in names:
            loc[0] = names[loc[0]]
        where = ".".join(loc) or error.title
        parts.append(f"{where}: {detail['msg']}")
    return "; ".join(parts)


class _TranslatingMeta(ModelMetaclass):
    """Translates pydantic errors raised by ``Model(...)`` (pydantic has no public hook)."""

    def __call__(cls, /, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - a metaclass method
        try:
            return super().__call__(*args, **kwargs)
        except pydantic.ValidationError as error:
            model: type[ValidatedModel] = cls  # type: ignore[assignment]
            raise model._translate(error, operation="validate", names=None) from (
                None if model._hide_cause else error
            )


class ValidatedModel(pydantic.BaseModel, metaclass=_TranslatingMeta):
    """A pydantic model whose construction and validation raise our ``ValidationError``.

    ``_hide_cause`` drops pydantic's error from the chain for models that hold secrets, since
    pydantic's own text can echo input values.
    """

    _hide_cause: ClassVar[bool] = False

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as error:
            raise self._translate(error, operation="validate", names=None) from (
                None if self._hide_cause else error
            )

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """Validate ``obj`` like pydantic, raising our ``ValidationError`` on failure."""
        return cls.validate_named(obj, options=options)

    @classmethod
    def validate_many(cls, values: Iterable[Any]) -> list[Self]:
        """Validate each of ``values`` (a page of items) as ``model_validate`` would.

        One call per page instead of three per item: reads validate thousands of items.
        """
        validate = cls.__pydantic_validator__.validate_python
        try:
            return [validate(value) for value in values]
        except pydantic.ValidationError as error:
            raise cls._translate(error, operation="validate", names=None) from (
                None if cls._hide_cause else error
            )

    @classmethod
    def validate_named(
        cls,
        obj: Any,
        *,
        names: Mapping[str, str] | None = None,
        operation: str = "validate",
        options: Mapping[str, Any] | None = None,
    ) -> Self:
        """Validate ``obj``; error messages call field ``f`` by ``names[f]`` where given."""
        try:
            return super().model_validate(obj, **(options or {}))
        except pydantic.ValidationError as error:
            raise cls._translate(error, operation=operation, names=names) from (
                None if cls._hide_cause else error
            )

    @classmethod
    def _translate(
        cls, error: pydantic.ValidationError, *, operation: str, names: Mapping[str, str] | None
    ) -> ValidationError:
        message = f"invalid {cls.__name__}: {describe_errors(error, names=names)}"
        return ValidationError(message, operation=operation)
