"""``class X(NamedTuple): ...`` without importing :mod:`typing`.

Every bpflink process pays for its imports: ``typing`` alone costs about
2.5 ms, and a plain link needs nothing from it but ``NamedTuple``'s class
syntax.  Modules import this at run time and ``typing.NamedTuple`` under
``TYPE_CHECKING``, so mypy checks the real thing::

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import NamedTuple
    else:
        from .._namedtuple import NamedTuple

The class is made as ``typing.NamedTuple`` makes it: ``collections.namedtuple``
of the annotated fields, in order, with the defaults given, then the class
body's other attributes (methods, docstring) copied onto it.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})


class _NamedTupleMeta(type):
    def __new__(mcls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        fields = list(ns.get("__annotations__", {}))
        given = [name in ns for name in fields]
        if given != sorted(given):          # defaults only on a run of last fields
            raise TypeError(f"{typename}: a field without a default follows one with a default")
        defaults = [ns[name] for name in fields if name in ns]
        cls = namedtuple(typename, fields, defaults=defaults,  # type: ignore[misc]
                         module=ns["__module__"])
        cls.__annotations__ = dict(ns.get("__annotations__", {}))
        for key, value in ns.items():
            if key in ("_make", "_fields", "_field_defaults", "_asdict", "_replace",
                       "__new__", "__init__", "__slots__", "__getnewargs__"):
                raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in cls._fields:
                setattr(cls, key, value)
        return cls


_NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})


def NamedTuple(typename: str, fields: Any = None, /) -> Any:  # noqa: N802 - typing's name
    """Only the class syntax is supported (bpflink uses nothing else)."""
    raise TypeError("bpflink._namedtuple.NamedTuple supports the class syntax only")


def _mro_entries(bases: tuple[Any, ...]) -> tuple[type, ...]:
    return (_NamedTupleBase,)


NamedTuple.__mro_entries__ = _mro_entries  # type: ignore[attr-defined]
