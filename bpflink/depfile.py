r"""A make-style dependency file, as ``clang -MD -MF FILE -MP`` writes one.

``bpflink prog.o libfoo.a -o out.o --depfile out.d`` writes::

    out.o: prog.o libfoo.a
    # archive members linked: libfoo.a(add.o) libfoo.a(mul.o)

    prog.o:

    libfoo.a:

The rule names the output and every input file as given on the command
line, archives included whether or not a member was taken (adding a member
to an archive can change the link).  A phony target per input (clang's
``-MP``) keeps ``make`` working when an input is deleted or renamed.

Archive members are not prerequisites: make could only stat the archive,
and ``libfoo.a(add.o)`` would be make's archive-member syntax, which asks
make to look inside the archive (``ar rcs`` writes member times of 0 in
Debian's deterministic mode).  As in lld's ``--dependency-file`` the rule
names files; the members taken are listed in the comment line, for people
and tools (``--why-extract`` says why each was taken).

Names are escaped the way clang escapes them for make: a space as ``\ ``
(doubling the backslashes before it), ``#`` as ``\#``, ``$`` as ``$$``.  A
name with a newline cannot be written in a makefile and is refused.
"""

from __future__ import annotations


class DepfileError(ValueError):
    """A name that no makefile can express."""


def escape(name: str) -> str:
    if "\n" in name or "\r" in name:
        raise DepfileError(f"{name!r}: a file name with a newline cannot be written in a "
                           "make dependency file")
    out = []
    for i, ch in enumerate(name):
        if ch == "#":
            out.append("\\")
        elif ch == " ":
            out.append("\\")
            j = i
            while j > 0 and name[j - 1] == "\\":
                out.append("\\")
                j -= 1
        elif ch == "$":
            out.append("$")
        out.append(ch)
    return "".join(out)


def render(output: str, inputs: list[str], members: list[str]) -> str:
    """The dependency file for ``output`` built from ``inputs`` (``members``: archive members)."""
    files = list(dict.fromkeys(inputs))        # an input given twice is one prerequisite
    lines = [f"{escape(output)}:" + "".join(f" {escape(f)}" for f in files)]
    if members:
        lines.append("# archive members linked: " + " ".join(members))
    for f in files:
        lines += ["", f"{escape(f)}:"]
    return "\n".join(lines) + "\n"
