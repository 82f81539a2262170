"""Diagnostics and the exception hierarchy.

A diagnostic is a value: severity, file, section, symbol, message and notes
(one per related place, rendered as ``>>>`` lines).  Phases collect them; a
checkpoint after each phase raises :class:`LinkError` carrying every error of
that phase, so the user sees all of them at once (mold's way).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, ClassVar


class _SeverityType(type):
    """Severity's class: iterates over the severities, as an Enum class does."""

    def __iter__(cls) -> Iterator[Severity]:
        return iter(_SEVERITIES)


class Severity(metaclass=_SeverityType):
    """How bad a diagnostic is: ``ERROR``, ``WARNING`` or ``NOTE``, whose ``value`` is the
    word the CLI prints.

    The surface of the Enum it was (singletons, ``name``, ``value``,
    ``Severity("error")``, iteration), without ``enum``, whose import cost
    every bpflink process start-up time (see ``Kind``).
    """

    __slots__ = ("name", "value")
    name: str
    value: str

    ERROR: ClassVar[Severity]
    WARNING: ClassVar[Severity]
    NOTE: ClassVar[Severity]

    def __new__(cls, value: str) -> Severity:
        """The severity whose ``value`` is ``value`` (ValueError if none), as ``Enum(v)``."""
        for s in _SEVERITIES:
            if s.value == value:
                return s
        raise ValueError(f"{value!r} is not a valid Severity")

    def __repr__(self) -> str:
        return f"<Severity.{self.name}: {self.value!r}>"

    def __str__(self) -> str:
        return f"Severity.{self.name}"

    def __reduce__(self) -> tuple[Any, ...]:
        return Severity, (self.value,)


def _severity(name: str, value: str) -> Severity:
    s = object.__new__(Severity)
    s.name, s.value = name, value
    setattr(Severity, name, s)
    return s


_SEVERITIES = (_severity("ERROR", "error"), _severity("WARNING", "warning"),
               _severity("NOTE", "note"))


class Diagnostic:
    """A value: compared and hashed by its fields, like the frozen dataclass it was.

    A plain class because ``import dataclasses`` (inspect, ast, dis, tokenize)
    and generating its methods cost every bpflink process milliseconds at start-up.
    """

    __slots__ = ("severity", "message", "file", "section", "symbol", "notes", "hint", "rule")

    def __init__(self, severity: Severity, message: str, file: str | None = None,
                 section: str | None = None, symbol: str | None = None,
                 notes: tuple[str, ...] = (), hint: str | None = None,
                 rule: str | None = None):
        self.severity = severity
        self.message = message
        self.file = file
        self.section = section
        self.symbol = symbol
        self.notes = notes
        self.hint = hint
        self.rule = rule    # for errors: the refusal rule, a key of RULES (not rendered)

    def _key(self) -> tuple[Any, ...]:
        return (self.severity, self.message, self.file, self.section, self.symbol,
                self.notes, self.hint, self.rule)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Diagnostic)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Diagnostic(severity={self.severity!r}, message={self.message!r}, "
                f"file={self.file!r}, section={self.section!r}, symbol={self.symbol!r}, "
                f"notes={self.notes!r}, hint={self.hint!r}, rule={self.rule!r})")

    def replace(self, **changes: Any) -> Diagnostic:
        """A copy with ``changes`` (``dataclasses.replace``'s job)."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return Diagnostic(**fields)

    def render(self, prog: str = "bpflink", color: bool = False) -> str:
        """``bpflink: error: a.o: section tc: prog: message`` plus ``>>>`` notes.

        ``color`` wraps the severity words in ANSI colours (GCC's: error red,
        warning magenta, note cyan, all bold), for a terminal.
        """
        where = []
        if self.file:
            where.append(self.file)
        if self.section:
            where.append(f"section {self.section}")
        if self.symbol:
            where.append(self.symbol)
        head = f"{prog}: {_paint(self.severity.value, color)} "
        head += "".join(f"{w}: " for w in where) + self.message
        lines = [head]
        lines.extend(f">>> {n}" for n in self.notes)
        if self.hint:
            lines.append(f"{prog}: {_paint('note', color)} {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


_COLORS = {"error": "\033[1;31m", "warning": "\033[1;35m", "note": "\033[1;36m"}


def _paint(word: str, color: bool) -> str:
    """``word:``, coloured when asked (only the severity word and its colon)."""
    return f"{_COLORS[word]}{word}:\033[0m" if color and word in _COLORS else f"{word}:"


def error(message: str, file: str | None = None, section: str | None = None,
          symbol: str | None = None, notes: tuple[str, ...] | list[str] = (),
          hint: str | None = None, rule: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, file, section, symbol, tuple(notes), hint, rule)


def warning(message: str, file: str | None = None, section: str | None = None,
            symbol: str | None = None, notes: tuple[str, ...] | list[str] = (),
            hint: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.WARNING, message, file, section, symbol, tuple(notes), hint)


# Why bpflink refuses an input: every error carries one of these stable identifiers
# (Diagnostic.rule), so a refusal can be told from a bug by what it is, not by its
# wording.  docs/guarantees.md ("Never stricter than libbpf") gives each
# one's reason; tests/differential.py holds bpflink to "never stricter than libbpf"
# up to these.  The reader tags its errors by what it was checking; the pipeline
# tags the rest by the phase that found them.
RULES = {
    "elf": "malformed ELF structure: header, section headers, string tables, symbol "
           "table, relocation sections (libbpf's static linker refuses these too)",
    "elf-kept-section": "a section the output keeps has unknown flag bits, an implausible "
                        "alignment or a size the kernel cannot hold",
    "elf-name": "an ELF section or symbol name that is not UTF-8",
    "elf-symbol": "a symbol that lies outside its section, a COMMON symbol, a symbol in a "
                  "reserved section index, one global listed twice in a symbol table",
    "btf": "missing or malformed .BTF (libbpf's static linker or the kernel's BTF checks "
           "refuse these too)",
    "btf-ext": "malformed .BTF.ext, or a record naming no instruction of its section",
    "load": "the input disagrees with itself where libbpf's loader relies on it "
            "(relocations in code, DATASECs, map definitions, kconfig types)",
    "resolve": "symbol resolution: duplicate strong definitions, type conflicts, BTF that "
               "describes one global twice",
    "graph": "link-level call-graph checks (a name whose meaning depends on input order, "
             "a tag libbpf refuses for the whole object or ignores); program-level defects "
             "are warnings, errors only under --fatal-warnings",
    "relocate": "a relocation that cannot be applied to its resolved target",
    "output": "the output cannot be represented or written",
}


class BpflinkError(Exception):
    """Base of every error bpflink raises on purpose."""


class LinkError(BpflinkError):
    """The link failed; ``diagnostics`` holds every error found (and warnings so far)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        super().__init__("\n".join(d.render() for d in errors) or "link failed")

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


class InputError(LinkError):
    """An input file is unreadable or malformed (not ELF, truncated, broken BTF...)."""


class OutputError(LinkError):
    """The output could not be written."""


class FormatError(Exception):
    """Raised by format parsers (ELF, BTF, BTF.ext) on malformed bytes.

    Parsers know the section but not the file; the reader catches this and
    turns it into an :class:`InputError` naming the file.
    """

    def __init__(self, message: str, section: str | None = None, symbol: str | None = None,
                 rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.section = section
        self.symbol = symbol
        self.rule = rule


class Diagnostics:
    """A phase's collector: add diagnostics, then :meth:`checkpoint`."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, diag: Diagnostic) -> None:
        self.items.append(diag)

    def error(self, message: str, **kw: Any) -> None:
        self.add(error(message, **kw))

    def warning(self, message: str, **kw: Any) -> None:
        self.add(warning(message, **kw))

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def checkpoint(self, exc: type[LinkError] = LinkError) -> None:
        """Stop the link if this phase (or an earlier one) recorded an error."""
        if self.has_errors:
            raise exc(self.items)
