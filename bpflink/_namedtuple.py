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

The class is made as ``typing.NamedTuple`` makes it: a named tuple of the
annotated fields, in order, with the defaults given, then the class body's
other attributes (methods, docstring) copied onto it.  The named tuple is
made here as ``collections.namedtuple`` makes one (its C field getters, a
``__new__`` compiled for the fields, ``_make``, ``_replace``, ``_asdict``,
the repr), because importing ``collections`` costs a process ~7 M
instructions (~2 ms) that a link has no other use for.
"""

from __future__ import annotations

try:                    # the C field getter collections.namedtuple uses
    from _collections import _tuplegetter  # type: ignore[import-not-found]
except ImportError:     # not CPython: a property, as collections falls back to
    from operator import itemgetter

    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)

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
        cls = _namedtuple(typename, fields, defaults, ns["__module__"])
        cls.__annotations__ = dict(ns.get("__annotations__", {}))
        for key, value in ns.items():
            if key in ("_make", "_fields", "_field_defaults", "_asdict", "_replace",
                       "__new__", "__init__", "__slots__", "__getnewargs__"):
                raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in cls._fields:
                setattr(cls, key, value)
        return cls


def _namedtuple(typename: str, fields: list[str], defaults: list[Any], module: str) -> Any:
    """``collections.namedtuple(typename, fields, defaults=defaults, module=module)``."""
    if not all(name.isidentifier() for name in [typename, *fields]) or \
            any(name.startswith("_") for name in fields) or len(set(fields)) != len(fields):
        raise ValueError(f"{typename}: bad type or field names {fields!r}")
    fields_t = tuple(fields)
    args = ", ".join(fields)
    new = eval(f"lambda _cls, {args}: _tuple_new(_cls, ({args}{',' if len(fields) == 1 else ''}))",
               {"_tuple_new": tuple.__new__, "__builtins__": {}, "__name__": f"namedtuple_{typename}"})
    new.__name__ = "__new__"
    new.__doc__ = f"Create new instance of {typename}({args})"
    if defaults:
        new.__defaults__ = tuple(defaults)
    shown = "(" + ", ".join(f"{name}=%r" for name in fields) + ")"

    def _make(cls: Any, iterable: Any) -> Any:
        result = tuple.__new__(cls, iterable)
        if len(result) != len(fields_t):
            raise TypeError(f"Expected {len(fields_t)} arguments, got {len(result)}")
        return result

    def _replace(self: Any, /, **kwds: Any) -> Any:
        result = self._make(map(kwds.pop, fields_t, self))
        if kwds:
            raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
        return result

    def __repr__(self: Any) -> str:
        return f"{self.__class__.__name__}{shown % self}"

    def _asdict(self: Any) -> dict[str, Any]:
        return dict(zip(self._fields, self))

    def __getnewargs__(self: Any) -> tuple[Any, ...]:
        return tuple(self)

    for method in (_make, _replace, __repr__, _asdict, __getnewargs__):
        method.__qualname__ = f"{typename}.{method.__name__}"
    namespace: dict[str, Any] = {
        "__doc__": f"{typename}({args})", "__slots__": (), "_fields": fields_t,
        "_field_defaults": dict(zip(fields_t[len(fields_t) - len(defaults):], defaults)),
        "__new__": new, "_make": classmethod(_make), "_replace": _replace,
        "__repr__": __repr__, "_asdict": _asdict, "__getnewargs__": __getnewargs__,
        "__match_args__": fields_t, "__module__": module,
    }
    for index, name in enumerate(fields):
        namespace[name] = _tuplegetter(index, f"Alias for field number {index}")
    return type(typename, (tuple,), namespace)


_NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})


def NamedTuple(typename: str, fields: Any = None, /) -> Any:  # noqa: N802 - typing's name
    """Only the class syntax is supported (bpflink uses nothing else)."""
    raise TypeError("bpflink._namedtuple.NamedTuple supports the class syntax only")


def _mro_entries(bases: tuple[Any, ...]) -> tuple[type, ...]:
    return (_NamedTupleBase,)


NamedTuple.__mro_entries__ = _mro_entries  # type: ignore[attr-defined]
