"""Command line: parse arguments, run, render diagnostics, choose the exit status.

    bpflink a.o b.o -o out.o [--print-callgraph] [--verify[=require]] [-v]
    bpflink graph a.o b.o [--format text|dot|json|mermaid|svg] [-o FILE]

Exit status: 0 success, 1 link error (bad input, conflicting symbols...),
2 usage error.  Diagnostics go to stderr as ``bpflink: error: FILE: ...``;
bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import sys

PROG = "bpflink"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):       # usage errors: exit 2, one line
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: {message}\n")
        raise SystemExit(2)


def _link_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Statically link BPF ELF objects into one object "
                "that libbpf loads.",
                epilog="Subcommand: 'bpflink graph IN... [--format F] [-o FILE]' prints the "
                "call graph.")
    p.add_argument("inputs", nargs="+", metavar="IN", help="input objects (.o) or archives (.a)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output object")
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
    return p


def _graph_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=f"{PROG} graph", description="Link in memory and print the call graph.")
    p.add_argument("inputs", nargs="+", metavar="IN")
    p.add_argument("--format", choices=["text", "dot", "json", "mermaid", "svg"], default="text",
                   help="svg runs Graphviz's dot on the dot format")
    p.add_argument("-o", "--output", metavar="FILE", help="write the graph here, not stdout")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also show subprograms no program reaches (never loaded), and why "
                   "each function is reachable")
    p.add_argument("--fatal-warnings", action="store_true",
                   help="treat warnings as errors: fail instead of printing the graph")
    _rule_args(p)
    return p


def _rule_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tag-rule", action="append", default=[], metavar="SPEC",
                   help="declare a decl-tag rule (repeatable): PREFIX:on=program|function|"
                   "type|var[,kind=NAME][,global][,exclusive][,one][,warn]")
    p.add_argument("--no-config", action="store_true",
                   help="ignore [tool.bpflink] in pyproject.toml")


def _tag_rules(args, parser: argparse.ArgumentParser) -> list:
    """pyproject.toml's rules (unless --no-config), then --tag-rule's; bad ones exit 2."""
    import os

    from .graph.rules import parse_tag_rule, project_tag_rules, with_rules

    try:
        rules = [] if args.no_config else project_tag_rules(os.getcwd())[1]
        rules += [parse_tag_rule(spec) for spec in args.tag_rule]
        with_rules(rules)
    except (ValueError, OSError) as e:
        parser.error(str(e))
    return rules


def _version() -> str:
    from . import __version__

    return __version__


def _render(diags) -> None:
    for d in diags:
        sys.stderr.write(d.render(PROG) + "\n")


def main(argv: list[str] | None = None) -> int:
    from . import Linker
    from .errors import LinkError

    argv = list(sys.argv[1:] if argv is None else argv)
    graph_mode = bool(argv) and argv[0] == "graph"
    parser = _graph_parser() if graph_mode else _link_parser()
    args = parser.parse_args(argv[1:] if graph_mode else argv)
    linker = Linker(dedup=not getattr(args, "no_dedup", False),
                    graph_checks=not getattr(args, "no_graph_checks", False),
                    fatal_warnings=getattr(args, "fatal_warnings", False),
                    tag_rules=_tag_rules(args, parser))
    for path in args.inputs:
        linker.add_file(path)
    try:
        result = linker.link(None if graph_mode else args.output)
    except LinkError as e:
        _render(e.diagnostics)
        return 1
    _render(result.warnings)
    from . import graph

    if graph_mode:
        from .graph.svg import RenderError

        try:
            text = graph.render(result.digraph, args.format, verbose=args.verbose)
        except RenderError as e:
            sys.stderr.write(f"{PROG}: error: {e.message}\n")
            if e.hint:
                sys.stderr.write(f"{PROG}: note: {e.hint}\n")
            return 1
        if args.output:
            from .fileio import write_atomic

            try:
                write_atomic(args.output, text.encode())
            except OSError as e:
                sys.stderr.write(f"{PROG}: error: {args.output}: cannot write: "
                                 f"{e.strerror or e}\n")
                return 1
        else:
            sys.stdout.write(text)
        return 0
    if args.print_callgraph:
        sys.stdout.write(graph.render(result.digraph, "text", verbose=args.verbose))
    if args.verbose:
        for phase, secs in result.timings.items():
            sys.stderr.write(f"{PROG}: {phase}: {secs * 1000:.1f} ms\n")
    if args.verify:
        # --fatal-warnings: "cannot verify here" is a warning like any other.
        require = args.verify == "require" or args.fatal_warnings
        return _verify(result, require=require, verbose=args.verbose)
    return 0


def _verify(result, require: bool, verbose: bool) -> int:
    """--verify: load the written output; exit 1 if the kernel refused a program (or,
    with ``require``, could not be asked).  The output stays: it is a correct link."""
    from .errors import Severity
    from .verify import LOG_TAIL_LINES

    report = result.verify()
    diags = report.diagnostics(require=require, tail=None if verbose else LOG_TAIL_LINES)
    _render(diags)
    failed = any(d.severity is Severity.ERROR for d in diags)
    if verbose or failed:
        done = [p for p in report.programs if p.status == "verified"]
        sys.stderr.write(f"{PROG}: note: {result.output}: {report.outcome.value}: "
                         f"{len(done)} of {sum(p.autoload for p in report.programs)} programs "
                         f"loaded" + (f" with {report.libbpf}" if report.libbpf else "")
                         + (f" ({report.libbpf_path})" if verbose and report.libbpf_path else "")
                         + ("; the output is written, it is a correct link" if failed else "")
                         + "\n")
    return 1 if failed else 0


class _Terminated(BaseException):
    """SIGTERM/SIGHUP, raised like KeyboardInterrupt so the atomic write cleans up."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame) -> None:
    raise _Terminated(signum)


def main_entry() -> None:
    import signal

    # make sends SIGTERM to the other jobs when one fails; without a handler
    # Python dies on the spot and leaves the temporary output file behind.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        code = main()
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        code = 130
    except _Terminated as e:
        sys.stderr.write(f"{PROG}: terminated\n")
        code = 128 + e.signum
    raise SystemExit(code)
