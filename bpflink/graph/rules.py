"""Decl-tag rules: which BTF decl tags create graph edges, as a table.

A BTF ``DECL_TAG`` whose name starts with a rule's prefix is a *tag use*: the
rest of the name is its value, a name some loader looks up by string.  A row
says what the tag may sit on (its *carrier*), what its value must name and
what the named function must be; the graph builder and the checks read the
row and have no code path of their own for any particular tag.

Carriers (``sits_on``):

* ``program`` — the BTF FUNC of an entry program (``component_idx`` -1);
* ``function`` — the BTF FUNC of any function, program or subprogram,
  global or static;
* ``type`` — a STRUCT or UNION;
* ``var`` — a VAR (a global or file-scope variable, maps included).

A tag on a type or variable gets a node of its own (:class:`DataId`, keyed
by kind and name, never equal to a function's key) and an edge of the
rule's kind from that node to the function it names.

The built-in table: ``exception_callback:`` (libbpf
``bpf_prog_assign_exc_cb``, kernel ``find_exception_callback_insn_off``), and
``ctor:``/``dtor:`` on structs and unions, which no kernel or libbpf defines
yet: they are *warnings-only* rows (``warn=True``), so an ambiguous ctor is
said without failing links that use ``ctor:`` for something else; a project
that relies on them declares the rule (``Linker(tag_rules=[...])``,
``--tag-rule``, ``[tool.bpflink] tag-rules``), which replaces the built-in
row of the same prefix and makes its link-level defects errors.

:func:`parse_tag_rule` reads the CLI/pyproject spelling
``PREFIX:on=program|function|type|var[,kind=NAME][,global][,exclusive][,one][,warn]``;
:func:`project_tag_rules` finds ``[tool.bpflink] tag-rules`` in the closest
``pyproject.toml`` that has that table, from a directory upward.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What a tag may sit on.
ON_PROGRAM = "program"          # the BTF FUNC of an entry program (DECL_TAG component_idx -1)
ON_FUNCTION = "function"        # the BTF FUNC of any function
ON_TYPE = "type"                # a STRUCT or UNION
ON_VAR = "var"                  # a VAR
SITS_ON = (ON_PROGRAM, ON_FUNCTION, ON_TYPE, ON_VAR)

# What a tag's value must name.
NAMES_FUNCTION = "function"     # a function of the output, looked up by name

# Edge kinds that come from instructions rather than tags, in output order,
# and the edge from a function to a tagged type or variable it uses.
CALL = "call"
FUNC_REF = "func_ref"
USES = "uses"
RESERVED_KINDS = (CALL, FUNC_REF, USES)


def _is_c_identifier(text: str) -> bool:
    """``[A-Za-z_][A-Za-z0-9_]*``, without ``re`` (which costs every link's start-up)."""
    return text.isascii() and text.isidentifier()


class TagRule:
    """One row of the decl-tag table.

    Immutable, compared and hashed by value (the frozen dataclass it was; a
    plain class because ``import dataclasses`` costs every process
    milliseconds at start-up).
    """

    __slots__ = ("prefix", "kind", "sits_on", "names", "at_most_one", "global_target",
                 "subprogram_target", "exclusive_target", "warn", "defined_by", "what", "why",
                 "refusals")

    prefix: str                     # "exception_callback:"
    kind: str                       # edge kind; default: the prefix without its ':'
    sits_on: str
    names: str
    at_most_one: bool               # a carrier has at most one tag of this rule
    global_target: bool             # the named function must be global and not hidden
    subprogram_target: bool         # ... must be a subprogram (.text), not an entry program
    exclusive_target: bool          # ... must not also be called directly (a `call` edge)
    warn: bool                      # warnings-only: every defect is a warning
    defined_by: str                 # which loader reads the tag; "" = none yet
    what: str                       # what the named function is, in messages
    why: str                        # who looks the name up, in messages
    # What the loader does with a program carrying a defective tag, per check
    # ("missing", "static", "hidden", "entry", "called", "multiple", "empty"):
    # the consequence a warning states.  Pairs, so the row stays hashable.
    refusals: tuple[tuple[str, str], ...]

    def __init__(self, prefix: str, kind: str = "", sits_on: str = ON_PROGRAM,
                 names: str = NAMES_FUNCTION, at_most_one: bool = True,
                 global_target: bool = True, subprogram_target: bool = True,
                 exclusive_target: bool = True, warn: bool = False, defined_by: str = "",
                 what: str = "function", why: str = "",
                 refusals: tuple[tuple[str, str], ...] = ()):
        if not prefix.endswith(":") or len(prefix) < 2:
            raise ValueError(f"tag prefix {prefix!r} must be a name followed by ':'")
        if sits_on not in SITS_ON:
            raise ValueError(f"tag rule {prefix!r}: sits_on must be one of "
                             f"{', '.join(SITS_ON)}, not {sits_on!r}")
        if names != NAMES_FUNCTION:
            raise ValueError(f"tag rule {prefix!r}: only names={NAMES_FUNCTION!r} is "
                             "implemented")
        if not kind:
            kind = prefix[:-1]
        if kind in RESERVED_KINDS:
            raise ValueError(f"edge kind {kind!r} is reserved")
        if not why:
            why = f"a loader that reads {prefix} tags looks the {what} up by name"
        for name, value in (("prefix", prefix), ("kind", kind), ("sits_on", sits_on),
                            ("names", names), ("at_most_one", at_most_one),
                            ("global_target", global_target),
                            ("subprogram_target", subprogram_target),
                            ("exclusive_target", exclusive_target), ("warn", warn),
                            ("defined_by", defined_by), ("what", what), ("why", why),
                            ("refusals", refusals)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a TagRule (immutable)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a TagRule (immutable)")

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, TagRule)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "TagRule(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__) + ")"

    @property
    def carrier(self) -> str:
        """What the tag sits on, in messages."""
        return {ON_PROGRAM: "program", ON_FUNCTION: "function", ON_TYPE: "struct or union",
                ON_VAR: "variable"}[self.sits_on]

    def refusal(self, check: str) -> str:
        """What loading a program with this defect does, for a warning's text."""
        for name, text in self.refusals:
            if name == check:
                return text
        return f"the loader that reads {self.prefix} tags would not find the {self.what} it needs"

    def value_of(self, tag: str) -> str | None:
        """The tag's value if ``tag`` is one of this rule's, else None."""
        return tag[len(self.prefix):] if tag.startswith(self.prefix) else None


EXCEPTION_CALLBACK = TagRule(
    "exception_callback:",
    what="exception callback",
    why="libbpf and the kernel look the callback up by name",
    defined_by="libbpf and the kernel (6.7 and later)",
    # Each checked on the 6.18 kernel here with libbpf 1.6 (corpus scenarios
    # exc_missing, exc_static, exc_called, exc_two_tags, bad_programs).
    refusals=(
        ("missing", "libbpf refuses to load it: \"cannot find exception callback '{value}'\""),
        ("entry", "libbpf refuses to load it: \"cannot find exception callback '{value}'\" "
                  "(it searches subprograms only)"),
        ("static", "libbpf refuses to load it: \"exception callback {value} must be a global "
                   "non-hidden function\""),
        ("hidden", "libbpf refuses to load it: \"exception callback {value} must be a global "
                   "non-hidden function\""),
        ("called", "the verifier refuses it: \"cannot call exception cb directly\""),
        ("multiple", "the verifier refuses it: \"multiple exception callback tags for main "
                     "subprog\""),
        ("empty", "libbpf refuses to load it: \"exception_callback:<value> decl tag contains "
                  "empty value\""),
    ),
)

# Named by libbpf's reviewers as the next tags of this kind; no kernel or
# libbpf reads them yet, so they are warnings-only (see the module docstring).
CTOR = TagRule("ctor:", sits_on=ON_TYPE, global_target=False, exclusive_target=False,
               warn=True, what="constructor",
               why="a loader that reads ctor: tags would look the constructor up by name")
DTOR = TagRule("dtor:", sits_on=ON_TYPE, global_target=False, exclusive_target=False,
               warn=True, what="destructor",
               why="a loader that reads dtor: tags would look the destructor up by name")

BUILTIN_RULES: tuple[TagRule, ...] = (EXCEPTION_CALLBACK, CTOR, DTOR)

# The table.  Order only decides the order of edge kinds in output.
TAG_RULES: list[TagRule] = list(BUILTIN_RULES)


def register_tag_rule(rule: TagRule) -> TagRule:
    """Add a row to :data:`TAG_RULES` (replacing one with the same prefix)."""
    if rule.kind in RESERVED_KINDS:
        raise ValueError(f"edge kind {rule.kind!r} is reserved")
    for i, r in enumerate(TAG_RULES):
        if r.prefix == rule.prefix:
            TAG_RULES[i] = rule
            return rule
    TAG_RULES.append(rule)
    return rule


def unregister_tag_rule(prefix: str) -> None:
    TAG_RULES[:] = [r for r in TAG_RULES if r.prefix != prefix]


def with_rules(declared: list[TagRule] | tuple[TagRule, ...] = (),
               base: list[TagRule] | None = None) -> list[TagRule]:
    """The table a link uses: ``base`` (:data:`TAG_RULES`), each declared rule replacing
    the row with its prefix or added at the end.  Two rows may not share an edge kind."""
    table = list(TAG_RULES if base is None else base)
    for rule in declared:
        if not isinstance(rule, TagRule):
            raise TypeError(f"tag_rules: expected bpflink.TagRule, got {type(rule).__name__}")
        for i, r in enumerate(table):
            if r.prefix == rule.prefix:
                table[i] = rule
                break
        else:
            table.append(rule)
    seen: dict[str, str] = {}
    for r in table:
        if r.kind in seen:
            raise ValueError(f"tag rules {seen[r.kind]!r} and {r.prefix!r} both make edges of "
                             f"kind {r.kind!r}; give one another kind=")
        seen[r.kind] = r.prefix
    return table


def edge_kinds(rules: list[TagRule] | None = None) -> list[str]:
    """Every edge kind, in output order: call, func_ref, uses, then one per rule."""
    return [CALL, FUNC_REF, USES] + [r.kind for r in (TAG_RULES if rules is None else rules)]


# -- declared rules: the spec grammar and pyproject.toml -------------------------------------

SPEC_GRAMMAR = ("PREFIX:on=program|function|type|var[,kind=NAME][,global][,exclusive][,one]"
                "[,warn]")
_FLAGS = {"global": "global_target", "exclusive": "exclusive_target", "one": "at_most_one",
          "warn": "warn"}


def parse_tag_rule(spec: str) -> TagRule:
    """A :class:`TagRule` from ``PREFIX:on=...[,kind=NAME][,global][,exclusive][,one][,warn]``.

    Flags not given are off: a declared rule asks for exactly the checks it
    names (the name must still exist and resolve to one function).  Raises
    ValueError with a message that names the fault.
    """
    if not isinstance(spec, str):
        raise ValueError(f"tag rule must be a string {SPEC_GRAMMAR}, not {spec!r}")
    name, colon, rest = spec.partition(":")
    if not colon or not _is_c_identifier(name):
        raise ValueError(f"tag rule {spec!r}: expected {SPEC_GRAMMAR} (PREFIX is a C "
                         "identifier followed by ':')")
    fields: dict[str, Any] = {f: False for f in _FLAGS.values()}
    on = kind = None
    for item in rest.split(","):
        item = item.strip()
        if not item:
            continue                    # "ctor:" alone, or a trailing comma
        key, eq, value = item.partition("=")
        if key == "on" and eq:
            if on is not None:
                raise ValueError(f"tag rule {spec!r}: 'on' given twice")
            if value not in SITS_ON:
                raise ValueError(f"tag rule {spec!r}: on={value!r}; expected one of "
                                 f"{'|'.join(SITS_ON)}")
            on = value
        elif key == "kind" and eq:
            if not _is_c_identifier(value) or value in RESERVED_KINDS:
                raise ValueError(f"tag rule {spec!r}: kind={value!r} must be an identifier "
                                 f"other than {', '.join(RESERVED_KINDS)}")
            kind = value
        elif item in _FLAGS and not eq:
            fields[_FLAGS[item]] = True
        else:
            raise ValueError(f"tag rule {spec!r}: unknown item {item!r}; expected {SPEC_GRAMMAR}")
    if on is None:
        raise ValueError(f"tag rule {spec!r}: 'on=' is required; expected {SPEC_GRAMMAR}")
    kind = kind or name
    return TagRule(f"{name}:", kind=kind, sits_on=on, subprogram_target=True,
                   what=f"{kind} function", **fields)


def _toml_naming_bpflink(raw: bytes) -> dict[str, Any]:
    """``raw`` parsed as TOML if it may hold a ``[tool.bpflink]`` table, else ``{}``.

    Every bpflink run looks for a pyproject.toml above the working directory,
    and importing and running tomllib costs more than reading a small link's
    inputs, so only a file that may name the table is parsed
    (:func:`_may_name_tool_bpflink`).  Raises tomllib.TOMLDecodeError (a ValueError).
    """
    if not _may_name_tool_bpflink(raw):
        return {}
    import tomllib

    return tomllib.loads(raw.decode("utf-8", "replace"))


def _may_name_tool_bpflink(raw: bytes) -> bool:
    """False only for TOML that surely has no ``tool.bpflink`` key.

    In TOML (1.0: no key spans lines) the key is spelled one of three ways: a
    header holding both words (``[tool.bpflink]``, ``[[ "tool" . 'bpflink' ]]``),
    a line holding both (``tool.bpflink.x = 1``, ``tool = {bpflink = {}}``),
    or a ``bpflink`` key under a ``[tool]`` header.  A quoted key may spell
    letters as ``\\u`` escapes.  So a file is skipped when it has no such escape,
    no line with both words and no ``[tool]`` header; text inside strings can
    only make a file parsed that need not be, never the reverse.
    """
    if b"\\u" in raw or b"\\U" in raw:
        return True
    if b"bpflink" not in raw:
        return False
    for line in raw.splitlines():
        if b"tool" not in line:
            continue
        if b"bpflink" in line:
            return True
        head = line.lstrip()
        if head.startswith(b"["):       # [tool], [ "tool" ] # comment, [[tool]]
            key = head.split(b"#", 1)[0].translate(None, b" \t[]\"'")
            if key == b"tool":
                return True
    return False


def find_project_config(start: str | os.PathLike[str]) -> str | None:
    """The closest ``pyproject.toml`` with a ``[tool.bpflink]`` table, from ``start`` up.

    Raises ValueError for a file that mentions ``tool.bpflink`` but is not TOML.
    """
    here = os.path.abspath(start)
    while True:
        path = os.path.join(here, "pyproject.toml")
        if os.path.isfile(path):
            try:
                with open(path, "rb") as fh:
                    raw = fh.read()
                data = _toml_naming_bpflink(raw)
            except OSError:
                data = {}
            except ValueError as e:     # tomllib.TOMLDecodeError
                # Someone else's broken file is not ours to judge; ours is.
                if b"tool.bpflink" in raw:
                    raise ValueError(f"{path}: not valid TOML: {e}") from None
                data = {}
            if isinstance(data.get("tool"), dict) and "bpflink" in data["tool"]:
                return path
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def project_tag_rules(start: str | os.PathLike[str]) -> tuple[str | None, list[TagRule]]:
    """(the pyproject.toml used or None, its ``[tool.bpflink] tag-rules``).  Raises
    ValueError naming the file for a malformed table or spec."""
    path = find_project_config(start)
    if path is None:
        return None, []
    import tomllib

    with open(path, "rb") as fh:
        table = tomllib.load(fh)["tool"]["bpflink"]
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [tool.bpflink] must be a table")
    unknown = sorted(set(table) - {"tag-rules"})
    if unknown:
        raise ValueError(f"{path}: [tool.bpflink]: unknown keys {unknown}; known: tag-rules")
    specs = table.get("tag-rules", [])
    if not isinstance(specs, list):
        raise ValueError(f"{path}: [tool.bpflink] tag-rules must be a list of strings "
                         f"{SPEC_GRAMMAR}")
    try:
        return path, [parse_tag_rule(s) for s in specs]
    except ValueError as e:
        raise ValueError(f"{path}: [tool.bpflink] tag-rules: {e}") from None


__all__ = [
    "BUILTIN_RULES",
    "CALL",
    "CTOR",
    "DTOR",
    "EXCEPTION_CALLBACK",
    "FUNC_REF",
    "NAMES_FUNCTION",
    "ON_FUNCTION",
    "ON_PROGRAM",
    "ON_TYPE",
    "ON_VAR",
    "SITS_ON",
    "SPEC_GRAMMAR",
    "TAG_RULES",
    "TagRule",
    "USES",
    "edge_kinds",
    "find_project_config",
    "parse_tag_rule",
    "project_tag_rules",
    "register_tag_rule",
    "unregister_tag_rule",
    "with_rules",
]
