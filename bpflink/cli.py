"""Command line: parse arguments, run, render diagnostics, choose the exit status.

    bpflink a.o b.o -o out.o [--print-callgraph] [--verify[=require]] [-v]
    bpflink prog.o libfoo.a -o out.o [--map F] [--depfile F] [--why-extract F]
    bpflink graph a.o b.o [--format text|dot|json|mermaid|svg] [-o FILE]
    bpflink gen object OUT IN...            # bpftool's argument order
    bpflink @args.rsp                       # arguments from a response file

Exit status: 0 success, 1 link error (bad input, conflicting symbols...),
2 usage error.  Diagnostics go to stderr as ``bpflink: error: FILE: ...``
(or one JSON object per line, ``--diagnostics-format=json``, schema in
docs/usage.md); bad input never produces a traceback.

Response files follow libiberty's ``expandargv`` (what GNU ld and gcc use,
and clang's GNU mode): an argument ``@FILE`` is replaced by the arguments
in FILE, split at whitespace, with single and double quotes grouping and a
backslash escaping the next character (also inside quotes); arguments read
from a file are scanned again, so response files nest.  ``@FILE`` that
cannot be opened (or is a FIFO) stays as it is (it then fails as a missing
input); a device reads as empty; one that names a directory is an error; more than 2000 expansions is an error
(a file including itself).  Relative names are relative to the current
directory, not to the response file.
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable
    from types import FrameType, SimpleNamespace
    from typing import Any, NoReturn

    from . import Linker, LinkResult
    from .errors import Diagnostic
    from .graph.rules import TagRule

    # Parsed arguments: argparse's, or the plain link's fast path's (_parse_plain_link)
    Args = argparse.Namespace | SimpleNamespace
    # Reports a usage error (exit 2) as the command's parser does: parser.error
    UsageErrorFn = Callable[[str], NoReturn]

PROG = "bpflink"
ERROR_LIMIT = 20                # lld's default
COLORS = ["auto", "always", "never"]
DIAGNOSTICS_FORMATS = ["text", "json"]


def _help_width() -> int:
    """argparse's help width (``shutil.get_terminal_size``'s columns, less 2), without shutil.

    argparse makes a formatter for every ``add_argument`` and, left to size it,
    imports shutil (and with it zlib, bz2 and lzma) on every run.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns - 2


def _new_parser(**kwargs: Any) -> argparse.ArgumentParser:
    """An argparse parser with bpflink's help width and one-line usage errors.

    argparse is imported here, not at the top: a plain link parses its
    arguments without it (_parse_plain_link).
    """
    import argparse
    import functools

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:      # usage errors: exit 2, one line
            self.print_usage(sys.stderr)
            sys.stderr.write(f"{PROG}: error: {message}\n")
            raise SystemExit(2)

    return Parser(formatter_class=functools.partial(argparse.HelpFormatter, width=_help_width()),
                  **kwargs)


def _link_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = _new_parser(prog=prog, description="Statically link BPF ELF objects into one object "
                    "that libbpf loads.", allow_abbrev=False,
                    epilog="Subcommands: 'bpflink graph IN... [--format F] [-o FILE]' prints "
                    "the call graph; 'bpflink gen object OUT IN...' is the link in bpftool's "
                    "argument order. '@FILE' anywhere reads more arguments from FILE.")
    p.add_argument("inputs", nargs="+", metavar="IN",
                   help="input objects (.o) or archives (.a); of an archive only the members "
                   "an object needs are linked, unless --whole-archive")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output object, written atomically; '-' writes it to stdout")
    _add_archive_options(p)
    p.add_argument("--map", metavar="FILE", dest="map_file",
                   help="write a link map: sections and their inputs, global symbols and "
                   "who defined them, what each program reaches")
    p.add_argument("--depfile", metavar="FILE",
                   help="write a make dependency file naming the output and every input, "
                   "with a phony target per input (like clang -MD -MF FILE -MP)")
    p.add_argument("--why-extract", metavar="FILE", dest="why_extract",
                   help="write, for each archive member linked, the reference and the symbol "
                   "that took it (lld's format)")
    p.add_argument("--no-dedup", action="store_true", help="keep the merged BTF as appended")
    p.add_argument("--no-graph-checks", action="store_true",
                   help="skip the call-graph checks: for a partial link whose exception "
                   "callbacks (or callers) come in a later link, which checks them")
    p.add_argument("--fatal-warnings", action="store_true",
                   help="treat warnings as errors: the link fails and writes nothing")
    _rule_args(p)
    p.add_argument("--print-callgraph", action="store_true",
                   help="print the call graph (text) to stdout after linking")
    # "--verify=require" is its own option string: argparse matches a whole
    # option string before splitting at "=", and a bare "--verify" then never
    # takes the next argument (an input) as its value, as nargs="?" would.
    p.add_argument("--verify", dest="verify", action="store_const", const="auto",
                   help="after writing OUT, load it into the kernel through libbpf; a program "
                   "the verifier refuses is an error (exit 1, OUT stays); when the kernel "
                   "cannot be asked (no libbpf, no CAP_BPF, a program type it lacks) warn")
    p.add_argument("--verify=require", dest="verify", action="store_const", const="require",
                   help="like --verify, but not being able to verify is an error too")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also list subprograms no program reaches, and phase timings; with "
                   "--verify, whole verifier logs")
    p.add_argument("--version", action="version", version=f"{PROG} " + _version())
    _add_diagnostic_options(p)
    return p


def _gen_object_parser() -> argparse.ArgumentParser:
    """Only for ``--help`` and the generated reference: the form is rewritten to the link."""
    p = _new_parser(prog=f"{PROG} gen object", allow_abbrev=False,
                    description="Link IN... into OUT with bpftool's argument order, so a "
                    "Makefile can swap '$(BPFTOOL) gen object $@ $^' for "
                    "'bpflink gen object $@ $^'.",
                    epilog="Every option of the link form may follow OUT, except -o.")
    p.add_argument("output", metavar="OUT", help="output object ('-': stdout)")
    p.add_argument("inputs", nargs="+", metavar="IN", help="input objects or archives")
    return p


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by its command line, for the generated CLI reference."""
    return {PROG: _link_parser(), f"{PROG} gen object": _gen_object_parser(),
            f"{PROG} graph": _graph_parser()}


def _rule_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tag-rule", action="append", default=[], metavar="SPEC",
                   help="declare a decl-tag rule (repeatable): PREFIX:on=program|function|"
                   "type|var[,kind=NAME][,global][,exclusive][,one][,warn]")
    p.add_argument("--no-config", action="store_true",
                   help="ignore [tool.bpflink] in pyproject.toml")


def _tag_rules(args: Args, usage_error: UsageErrorFn) -> list[TagRule]:
    """pyproject.toml's rules (unless --no-config), then --tag-rule's; bad ones exit 2."""
    from .graph.rules import parse_tag_rule, project_tag_rules, with_rules

    try:
        rules = [] if args.no_config else project_tag_rules(os.getcwd())[1]
        rules += [parse_tag_rule(spec) for spec in args.tag_rule]
        with_rules(rules)
    except (ValueError, OSError) as e:
        usage_error(str(e))
    return rules


def _add_archive_options(p: argparse.ArgumentParser) -> None:
    # Positional toggles, as in ld: each applies to the archives after it.  argparse
    # cannot tell where they sit among the inputs; _inputs_in_order() does.
    p.add_argument("--whole-archive", action="append_const", const=True, dest="whole_toggles",
                   help="link every member of the archives that follow")
    p.add_argument("--no-whole-archive", action="append_const", const=False,
                   dest="whole_toggles",
                   help="back to linking only the members that are needed (the default)")


def _add_diagnostic_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    p.add_argument("--error-limit", type=_count, default=ERROR_LIMIT, metavar="N",
                   help=f"print at most N errors, then stop (0: all; default {ERROR_LIMIT})")
    p.add_argument("--color", choices=COLORS, default="auto",
                   help="colour the severity words: auto (default) does on a terminal "
                   "unless NO_COLOR is set or TERM=dumb")
    p.add_argument("--diagnostics-format", choices=DIAGNOSTICS_FORMATS, default="text",
                   help="json: one JSON object per diagnostic per line on stderr "
                   "(docs/usage.md has the schema)")


def _count(text: str) -> int:
    n = _count_or_none(text)
    if n is None:
        import argparse     # only argparse calls this

        raise argparse.ArgumentTypeError(f"expected a count (0 or more), got {text!r}")
    return n


def _count_or_none(text: str) -> int | None:
    try:
        n = int(text)
    except ValueError:
        return None
    return n if n >= 0 else None


def _graph_parser() -> argparse.ArgumentParser:
    p = _new_parser(prog=f"{PROG} graph", description="Link in memory and print the call graph.",
                    allow_abbrev=False)
    p.add_argument("inputs", nargs="+", metavar="IN", help="input objects or archives")
    p.add_argument("--format", choices=["text", "dot", "json", "mermaid", "svg"], default="text",
                   help="the rendering (default text); svg runs Graphviz's dot on the dot format")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the graph here, not stdout ('-': stdout)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also show subprograms no program reaches (never loaded), and why "
                   "each function is reachable")
    p.add_argument("--fatal-warnings", action="store_true",
                   help="treat warnings as errors: fail instead of printing the graph")
    _rule_args(p)
    _add_archive_options(p)
    _add_diagnostic_options(p)
    return p


def _version() -> str:
    from . import __version__

    return __version__


class UsageError(Exception):
    """Bad command line found before argparse runs (response files, gen object)."""


# -- response files ------------------------------------------------------------------------

RESPONSE_FILE_LIMIT = 2000      # libiberty's iteration_limit


def split_response_file(text: str) -> list[str]:
    """libiberty's ``buildargv``: whitespace separates; quotes group; backslash escapes."""
    args: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\n\v\f\r":
            i += 1
        if i >= n:
            return args
        arg: list[str] = []
        squote = dquote = bsquote = False
        while i < n:
            ch = text[i]
            if ch in " \t\n\v\f\r" and not (squote or dquote or bsquote):
                break
            if bsquote:
                bsquote = False
                arg.append(ch)
            elif ch == "\\":
                bsquote = True
            elif squote:
                if ch == "'":
                    squote = False
                else:
                    arg.append(ch)
            elif dquote:
                if ch == '"':
                    dquote = False
                else:
                    arg.append(ch)
            elif ch == "'":
                squote = True
            elif ch == '"':
                dquote = True
            else:
                arg.append(ch)
            i += 1
        args.append("".join(arg))


def expand_response_files(argv: list[str]) -> list[str]:
    """libiberty's ``expandargv`` (module docstring)."""
    args = list(argv)
    budget = RESPONSE_FILE_LIMIT
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("@"):
            i += 1
            continue
        budget -= 1
        if budget == 0:
            raise UsageError("too many @-files encountered")
        path = arg[1:]
        try:
            mode = os.stat(path).st_mode
        except OSError:
            i += 1              # libiberty leaves an @file it cannot stat as it is
            continue
        if stat.S_ISDIR(mode):
            raise UsageError(f"@-file refers to a directory: {path}")
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            i += 1              # libiberty cannot seek these, and leaves them as they are
            continue
        try:
            with open(path, "rb") as fh:
                # libiberty reads the size that seeking to the end reports: a
                # device such as /dev/zero is empty, never read forever
                raw = fh.read() if stat.S_ISREG(mode) else b""
        except OSError:
            i += 1              # nor one it cannot open
            continue
        text = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        args[i:i + 1] = split_response_file(text)     # scanned again: nested @files
    return args


# -- arguments -----------------------------------------------------------------------------

def _inputs_in_order(parser: argparse.ArgumentParser, argv: list[str]) -> list[tuple[str, bool]]:
    """Each positional input with the --whole-archive state in force where it appears."""
    takes_value = {opt for action in parser._actions for opt in action.option_strings
                   if action.nargs != 0}
    flags = {opt for action in parser._actions for opt in action.option_strings}
    out: list[tuple[str, bool]] = []
    whole = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            out += [(a, whole) for a in argv[i:]]
            break
        if arg in ("--whole-archive", "--no-whole-archive"):
            whole = arg == "--whole-archive"
        elif arg.startswith("--"):
            if arg in takes_value:
                i += 1                      # "--map FILE"; "--map=FILE" is one token
        elif arg.startswith("-") and arg != "-":
            for j in range(1, len(arg)):    # "-qv", "-o FILE", "-oFILE"
                if f"-{arg[j]}" in takes_value:
                    i += j == len(arg) - 1
                    break
                if f"-{arg[j]}" not in flags:
                    break
        else:
            out.append((arg, whole))
    return out


# The plain link's options as _parse_plain_link knows them, spelled in full: each
# flag with the attribute it sets, each option that takes a value with its attribute.
_PLAIN_FLAGS = {"--no-dedup": "no_dedup", "--no-graph-checks": "no_graph_checks",
                "--fatal-warnings": "fatal_warnings", "--no-config": "no_config",
                "--print-callgraph": "print_callgraph", "-v": "verbose", "--verbose": "verbose",
                "-q": "quiet", "--quiet": "quiet"}
_PLAIN_VALUES = {"-o": "output", "--output": "output", "--map": "map_file",
                 "--depfile": "depfile", "--why-extract": "why_extract", "--tag-rule": "tag_rule",
                 "--error-limit": "error_limit", "--color": "color",
                 "--diagnostics-format": "diagnostics_format"}


def _parse_plain_link(argv: list[str]) -> tuple[SimpleNamespace, list[tuple[str, bool]]] | None:
    """The plain link's arguments parsed without argparse, or None to leave them to argparse.

    Importing argparse (and the re, gettext and enum it imports) costs ~10 ms and
    35 M instructions over a bare interpreter, as much as a small link itself,
    and a Makefile pays it on every rule.  So the common form -- inputs, -o,
    and options spelled exactly as ``_link_parser`` defines them -- is parsed
    here.  Anything outside that vocabulary returns None and argparse parses
    as before, so help, --version, abbreviations, combined short flags, ``--``,
    an input or value that starts with ``-`` (but ``-o -``), a bad choice or
    count, and every usage message stay argparse's.

    Returns what ``parse_intermixed_args`` and :func:`_inputs_in_order` return
    for the same arguments (tests/test_cli_fastpath.py holds it to them).
    """
    if not TYPE_CHECKING:
        # types.SimpleNamespace, as the types module itself defines it: importing
        # types would cost more than this parse
        SimpleNamespace = type(sys.implementation)

    args = SimpleNamespace(
        inputs=[], output=None, whole_toggles=None, map_file=None, depfile=None,
        why_extract=None, no_dedup=False, no_graph_checks=False, fatal_warnings=False,
        tag_rule=[], no_config=False, print_callgraph=False, verify=None, verbose=False,
        quiet=False, error_limit=ERROR_LIMIT, color="auto", diagnostics_format="text")
    ordered: list[tuple[str, bool]] = []
    whole = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            ordered.append((arg, whole))
        elif arg in ("--whole-archive", "--no-whole-archive"):
            whole = arg == "--whole-archive"
            args.whole_toggles = [*(args.whole_toggles or []), whole]
        elif arg in _PLAIN_FLAGS:
            setattr(args, _PLAIN_FLAGS[arg], True)
        elif arg in ("--verify", "--verify=require"):
            args.verify = "auto" if arg == "--verify" else "require"
        else:
            # "--map F", "--map=F", "-o F", "-oF"; "-o=F" (rare) is left to argparse
            option, value = arg, None
            if arg.startswith("--") and "=" in arg:
                option, _, value = arg.partition("=")
            elif arg.startswith("-o") and arg[2:3] not in ("", "="):
                option, value = "-o", arg[2:]
            dest = _PLAIN_VALUES.get(option)
            if dest is None:
                return None
            if value is None:
                if i == len(argv):
                    return None
                value = argv[i]
                i += 1
            if value.startswith("-") and value != "-":
                return None
            if dest == "tag_rule":
                args.tag_rule.append(value)
            elif dest == "error_limit":
                limit = _count_or_none(value)
                if limit is None:
                    return None
                args.error_limit = limit
            elif ((dest == "color" and value not in COLORS) or
                  (dest == "diagnostics_format" and value not in DIAGNOSTICS_FORMATS)):
                return None
            else:
                setattr(args, dest, value)
    if not ordered or args.output is None:
        return None
    args.inputs = [path for path, _ in ordered]
    return args, ordered


def _gen_object_argv(argv: list[str]) -> list[str]:
    """``gen object OUT IN...`` (bpftool's order) as the link form's arguments."""
    rest = argv[2:]
    if not rest or rest[0] in ("-h", "--help"):
        _gen_object_parser().parse_args(rest or ["--help"])
    out = rest[0]
    if out.startswith("-") and out != "-":
        raise UsageError(f"gen object: expected OUT first (bpftool's order), got '{out}'")
    if any(a in ("-o", "--output") or a.startswith("--output=") or
           (a.startswith("-o") and not a.startswith("--")) for a in rest[1:]):
        raise UsageError("gen object: OUT is the first argument; -o is not accepted")
    return [*rest[1:], "-o", out]


# -- diagnostics ---------------------------------------------------------------------------

class _Reporter:
    """Writes diagnostics to stderr as text or JSON lines, obeying -q and --error-limit."""

    TOO_MANY = "too many errors emitted, stopping now (use --error-limit=0 to see all errors)"

    def __init__(self, args: Args | None = None):
        from .errors import Severity

        self.severity = Severity
        self.json = getattr(args, "diagnostics_format", "text") == "json"
        self.quiet = getattr(args, "quiet", False)
        self.limit = getattr(args, "error_limit", ERROR_LIMIT)
        self.color = _use_color(getattr(args, "color", "never"))
        self.errors = 0
        self.stopped = False

    def emit(self, diags: Iterable[Diagnostic]) -> None:
        from .errors import error

        for d in diags:
            if self.stopped:
                return
            if d.severity is not self.severity.ERROR and self.quiet:
                continue
            if d.severity is self.severity.ERROR:
                if self.limit and self.errors >= self.limit:
                    self._write(error(self.TOO_MANY))
                    self.stopped = True
                    return
                self.errors += 1
            self._write(d)

    def fail(self, message: str, file: str | None = None, hint: str | None = None) -> int:
        """Report one error the CLI itself found; the exit status for it."""
        from .errors import error

        self.emit([error(message, file=file, hint=hint)])
        return 1

    def _write(self, d: Diagnostic) -> None:
        if self.json:
            import json     # only for this format: a link without it does not pay the import

            line = json.dumps({"severity": d.severity.value, "file": d.file,
                               "section": d.section, "symbol": d.symbol,
                               "message": d.message, "related": list(d.notes),
                               "hint": d.hint}, ensure_ascii=False)
        else:
            line = d.render(PROG, color=self.color)
        sys.stderr.write(line + "\n")


def _use_color(mode: str) -> bool:
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False            # https://no-color.org: set and not empty
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _usage_error(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return 2


# -- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from .errors import LinkError

    try:
        graph_mode, prog, argv = _command(list(sys.argv[1:] if argv is None else argv))
    except UsageError as e:
        return _usage_error(str(e))
    # the link form (gen object's too, rewritten to it): graph keeps argparse
    plain = None if graph_mode else _parse_plain_link(argv)
    args: Args
    usage_error: UsageErrorFn
    if plain is not None:
        args, ordered = plain
        usage_error = _link_usage_error(prog)
    else:
        parser = _graph_parser() if graph_mode else _link_parser(prog)
        # intermixed: inputs may sit between options (--whole-archive lib.a --no-whole-archive)
        args = parser.parse_intermixed_args(argv)
        ordered = _inputs_in_order(parser, argv)
        usage_error = parser.error
    _check_combinations(usage_error, args, graph_mode)
    report = _Reporter(args)
    linker = _linker(usage_error, args, ordered)
    to_stdout = not graph_mode and args.output == "-"
    if to_stdout and sys.stdout.isatty():
        return report.fail("refusing to write a binary object to a terminal",
                           hint="redirect stdout, or give -o a file")
    try:
        if graph_mode:
            result = linker.link()
        else:
            result = linker.link(None if to_stdout else args.output,
                                 map_file=_file_arg(args.map_file), depfile=args.depfile,
                                 why_extract=_file_arg(args.why_extract))
    except LinkError as e:
        report.emit(e.diagnostics)
        return 1
    report.emit(result.warnings)
    if graph_mode:
        return _print_graph(result, args, report)
    return _print_link(result, args, report, to_stdout)


def _command(argv: list[str]) -> tuple[bool, str, list[str]]:
    """(graph mode?, program name for messages, arguments for its parser)."""
    argv = expand_response_files(argv)
    if argv[:2] == ["gen", "object"]:
        return False, f"{PROG} gen object", _gen_object_argv(argv)
    if argv[:1] == ["graph"]:
        return True, f"{PROG} graph", argv[1:]
    return False, PROG, argv


def _link_usage_error(prog: str) -> UsageErrorFn:
    """The link parser's ``error``, for arguments parsed without it (argparse's usage and
    message), made only when there is an error to report."""
    def error(message: str) -> NoReturn:
        _link_parser(prog).error(message)
    return error


def _check_combinations(usage_error: UsageErrorFn, args: Args, graph_mode: bool) -> None:
    if args.quiet and args.verbose:
        usage_error("-q and -v contradict each other")
    if graph_mode:
        return
    writers = [name for name, on in (("-o -", args.output == "-"),
                                     ("--print-callgraph", args.print_callgraph),
                                     ("--map -", args.map_file == "-"),
                                     ("--why-extract -", args.why_extract == "-")) if on]
    if len(writers) > 1:
        usage_error(f"{' and '.join(writers)} would all write to stdout; choose one")
    if args.output == "-" and args.depfile:
        usage_error("--depfile needs an output file to name; not -o -")


def _file_arg(value: str | None) -> str | None:
    """A report's file, or None when it goes to stdout (``-``, printed after the link)."""
    return None if value == "-" else value


def _linker(usage_error: UsageErrorFn, args: Args,
            ordered: list[tuple[str, bool]]) -> Linker:
    """A linker with the inputs (``ordered``: each with its --whole-archive state) added."""
    from . import Linker

    linker = Linker(dedup=not getattr(args, "no_dedup", False),
                    graph_checks=not getattr(args, "no_graph_checks", False),
                    fatal_warnings=args.fatal_warnings, tag_rules=_tag_rules(args, usage_error))
    if [path for path, _ in ordered] != list(args.inputs):
        usage_error("cannot tell which inputs --whole-archive applies to; write options "
                    "as separate arguments")
    for path, whole in ordered:
        linker.add_file(path, whole_archive=whole)
    return linker


def _print_graph(result: LinkResult, args: Args, report: _Reporter) -> int:
    from . import graph
    from .graph.svg import RenderError

    try:
        text = graph.render(result.digraph, args.format, verbose=args.verbose)
    except RenderError as e:
        return report.fail(e.message, hint=e.hint)
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return 0
    from .fileio import write_atomic

    try:
        write_atomic(args.output, text.encode())
    except OSError as e:
        return report.fail(f"cannot write: {e.strerror or e}", file=args.output)
    return 0


def _print_link(result: LinkResult, args: Args, report: _Reporter,
                to_stdout: bool) -> int:
    from . import graph

    if to_stdout:
        try:
            sys.stdout.flush()
            sys.stdout.buffer.write(result.data)
            sys.stdout.buffer.flush()
        except OSError as e:
            return report.fail(f"cannot write output to stdout: {e.strerror or e}")
    if args.print_callgraph:
        sys.stdout.write(graph.render(result.digraph, "text", verbose=args.verbose))
    if args.map_file == "-":
        sys.stdout.write(result.map.render())
    if args.why_extract == "-":
        from .linker.archive import render_why_extract

        sys.stdout.write(render_why_extract(result.extractions))
    if args.verbose:
        for phase, secs in result.timings.items():
            sys.stderr.write(f"{PROG}: {phase}: {secs * 1000:.1f} ms\n")
    if args.verify:
        # --fatal-warnings: "cannot verify here" is a warning like any other.
        require = args.verify == "require" or args.fatal_warnings
        return _verify(result, report, require=require, verbose=args.verbose)
    return 0


def _verify(result: LinkResult, report: _Reporter, require: bool, verbose: bool) -> int:
    """--verify: load the written output; exit 1 if the kernel refused a program (or,
    with ``require``, could not be asked).  The output stays: it is a correct link."""
    from .errors import Severity
    from .verify import LOG_TAIL_LINES

    verdict = result.verify()
    diags = verdict.diagnostics(require=require, tail=None if verbose else LOG_TAIL_LINES)
    report.emit(diags)
    failed = any(d.severity is Severity.ERROR for d in diags)
    if verbose or failed:
        done = [p for p in verdict.programs if p.status == "verified"]
        sys.stderr.write(f"{PROG}: note: {result.output}: {verdict.outcome.value}: "
                         f"{len(done)} of {sum(p.autoload for p in verdict.programs)} programs "
                         f"loaded" + (f" with {verdict.libbpf}" if verdict.libbpf else "")
                         + (f" ({verdict.libbpf_path})" if verbose and verdict.libbpf_path
                            else "")
                         + ("; the output is written, it is a correct link" if failed else "")
                         + "\n")
    return 1 if failed else 0


class _Terminated(BaseException):
    """SIGTERM/SIGHUP, raised like KeyboardInterrupt so the atomic write cleans up."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


def main_entry() -> None:
    import gc

    if TYPE_CHECKING:
        from signal import SIGHUP, SIGTERM
        from signal import signal as set_handler
    else:
        # The C module under ``signal``: importing ``signal`` itself builds its
        # IntEnums of every signal, 3 M instructions (~1 ms) of every run.
        try:
            from _signal import SIGHUP, SIGTERM
            from _signal import signal as set_handler
        except ImportError:         # not CPython
            from signal import SIGHUP, SIGTERM
            from signal import signal as set_handler

    # The process ends after one link: the cyclic collector would only scan
    # the link's objects again and again, and tearing the interpreter down
    # frees them one by one (5% of a large link); lld ends with _exit too.
    gc.disable()
    # make sends SIGTERM to the other jobs when one fails; without a handler
    # Python dies on the spot and leaves the temporary output file behind.
    for sig in (SIGTERM, SIGHUP):
        set_handler(sig, _terminate)
    try:
        code = main()
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        code = 130
    except _Terminated as e:
        sys.stderr.write(f"{PROG}: terminated\n")
        code = 128 + e.signum
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):    # a closed pipe: exit 120, as Python's own exit does
            code = code or 120
    os._exit(code)
