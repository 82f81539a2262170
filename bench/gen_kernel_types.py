#!/usr/bin/env python3
"""Write UNITS BPF C units that read kernel structs through CO-RE: the kernel-types workload.

    gen_kernel_types.py OUTDIR UNITS VMLINUX_H

Each unit ``k<i>.c`` includes ``vmlinux.h`` and keeps pointers to big kernel
structs (task_struct, sk_buff, inode...), so its BTF carries their whole type
closure, as real tracing objects do: linking them is mostly BTF
deduplication.  Its kprobe reads task fields with CO-RE relocations and calls
the previous unit's probe function.  Make ``vmlinux.h`` with
``bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h`` and
compile with ``-D__TARGET_ARCH_x86``.
"""

from __future__ import annotations

import os
import sys

# CO-RE field reads, through pointers and nested structs
FIELDS = ("t->pid", "t->tgid", "t->prio", "t->flags", "t->mm->total_vm",
          "t->real_parent->pid", "t->se.load.weight", "t->nr_cpus_allowed")
# a global pointer to each pulls the struct's type closure into the unit's BTF
KEPT_STRUCTS = ("task_struct", "sk_buff", "inode", "file", "net_device", "sock", "bpf_prog",
                "cgroup")


def unit_source(i: int, units: int, vmlinux_h: str) -> str:
    prev = (i - 1) % units
    parts = [f'#include "{vmlinux_h}"\n',
             "#define SEC(n) __attribute__((section(n), used))\n",
             "static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *) 158;\n"]
    if i == 0:
        parts.append('char LICENSE[] SEC("license") = "GPL";\n')
    parts.append(f"__u64 seen_u{i};\n")
    parts.extend(f"struct {ty} *keep_{ty}_u{i};\n" for ty in KEPT_STRUCTS)
    if units > 1:
        parts.append(f"extern __u64 probe_u{prev}(struct task_struct *t);\n")
    reads = " + ".join(f"(__u64)__builtin_preserve_access_index({f})" for f in FIELDS)
    also = f" + probe_u{prev}(t)" if units > 1 else ""
    parts.append(f"""\
__attribute__((noinline)) __u64 probe_u{i}(struct task_struct *t)
{{
    if (!t) return 0;
    return {reads};
}}
SEC("kprobe/do_nanosleep")
int kp_u{i}(struct pt_regs *ctx)
{{
    struct task_struct *t = bpf_get_current_task_btf();
    seen_u{i} += probe_u{i}(t){also};
    return 0;
}}
""")
    return "".join(parts)


def write_units(outdir: str | os.PathLike, units: int, vmlinux_h: str) -> list[str]:
    """Write ``k0.c`` .. ``k<units-1>.c`` into ``outdir``; their paths in unit order."""
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for i in range(units):
        path = os.path.join(outdir, f"k{i}.c")
        with open(path, "w") as fh:
            fh.write(unit_source(i, units, vmlinux_h))
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    write_units(argv[0], int(argv[1]), argv[2])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
