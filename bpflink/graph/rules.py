"""Decl-tag rules: which BTF decl tags create call-graph edges, as a table.

A BTF ``DECL_TAG`` whose name starts with a rule's prefix is a *tag use*: the
rest of the name is its value, a name some loader looks up by string.  A row
says what the tag may sit on, what its value must name and what the named
function must be; the graph builder and the checks read the row and have no
code path of their own for any particular tag.

Only ``exception_callback:`` is defined by a kernel today (libbpf
``bpf_prog_assign_exc_cb``, kernel ``find_exception_callback_insn_off``).
``ctor:``/``dtor:`` are not; when one is, it is a new row here, e.g.::

    TagRule("ctor:", kind="ctor", why="...")

and :func:`register_tag_rule` adds a row at run time (tests do that).
"""

from __future__ import annotations

from dataclasses import dataclass

# What a tag may sit on.
ON_PROGRAM = "entry program"    # the BTF FUNC of an entry program (DECL_TAG component_idx -1)

# What a tag's value must name.
NAMES_FUNCTION = "function"     # a function of the output, looked up by name


@dataclass(frozen=True)
class TagRule:
    """One row of the decl-tag table."""

    prefix: str                     # "exception_callback:"
    kind: str = ""                  # edge kind; default: the prefix without its ':'
    sits_on: str = ON_PROGRAM
    names: str = NAMES_FUNCTION
    at_most_one: bool = True        # a program carries at most one tag of this rule
    global_target: bool = True      # the named function must be global and not hidden
    subprogram_target: bool = True  # ... must be a subprogram (.text), not an entry program
    exclusive_target: bool = True   # ... must not also be called directly (a `call` edge)
    what: str = "function"          # what the named function is, in messages
    why: str = ""                   # who looks the name up, in messages
    # What the loader does with a program carrying a defective tag, per check
    # ("missing", "static", "hidden", "entry", "called", "multiple", "empty"):
    # the consequence a warning states.  Pairs, so the row stays hashable.
    refusals: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.prefix.endswith(":") or len(self.prefix) < 2:
            raise ValueError(f"tag prefix {self.prefix!r} must be a name followed by ':'")
        if self.sits_on != ON_PROGRAM or self.names != NAMES_FUNCTION:
            raise ValueError(f"tag rule {self.prefix!r}: only sits_on={ON_PROGRAM!r} and "
                             f"names={NAMES_FUNCTION!r} are implemented")
        if not self.kind:
            object.__setattr__(self, "kind", self.prefix[:-1])

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

# The table.  Order only decides the order of edge kinds in output.
TAG_RULES: list[TagRule] = [EXCEPTION_CALLBACK]

# Edge kinds that come from instructions rather than tags, in output order.
CALL = "call"
FUNC_REF = "func_ref"


def register_tag_rule(rule: TagRule) -> TagRule:
    """Add a row to :data:`TAG_RULES` (replacing one with the same prefix)."""
    if rule.kind in (CALL, FUNC_REF):
        raise ValueError(f"edge kind {rule.kind!r} is reserved")
    for i, r in enumerate(TAG_RULES):
        if r.prefix == rule.prefix:
            TAG_RULES[i] = rule
            return rule
    TAG_RULES.append(rule)
    return rule


def unregister_tag_rule(prefix: str) -> None:
    TAG_RULES[:] = [r for r in TAG_RULES if r.prefix != prefix]


def edge_kinds(rules: list[TagRule] | None = None) -> list[str]:
    """Every edge kind, in output order: call, func_ref, then one per rule."""
    return [CALL, FUNC_REF] + [r.kind for r in (TAG_RULES if rules is None else rules)]


__all__ = [
    "CALL",
    "EXCEPTION_CALLBACK",
    "FUNC_REF",
    "NAMES_FUNCTION",
    "ON_PROGRAM",
    "TAG_RULES",
    "TagRule",
    "edge_kinds",
    "register_tag_rule",
    "unregister_tag_rule",
]
