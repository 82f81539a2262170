#!/usr/bin/env python3
"""Write UNITS BPF C translation units that link into one object: the synthetic workload.

    gen_synth.py OUTDIR UNITS FUNCS [BLOB_KIB]

Unit ``u<i>.c`` has its own struct, a BTF-defined hash map keyed by a struct
every unit declares (so BTF dedup has work), a global in each of ``.data``,
``.rodata`` and ``.bss``, FUNCS static and FUNCS global subprograms, and one
``tc`` program per 8 functions that calls a global function of the previous
unit (so symbol resolution and relocation cross every input).
``gen_synth.py out 16 64`` gives 16 objects, about 2.5 MB together.

BLOB_KIB (default 0) gives each unit an initialised array of that many KiB in
a ``.data.blob`` section, which its programs read: the shape of sched_ext
links, whose 20-odd inputs each carry a 1 MiB arena or data section, so the
link is dominated by moving section bytes rather than by symbols or types.
"""

from __future__ import annotations

import os
import sys

PRELUDE = """\
typedef unsigned long long u64;
typedef unsigned int u32;
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
struct __sk_buff { u32 len; u32 pkt_type; u32 mark; u32 queue_mapping; };
struct shared_key { u32 a; u32 b; };
struct shared_val { u64 count; u64 bytes; struct shared_key last; };
static long (*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, u64 flags) = (void *) 2;
"""


def _functions(i: int, f: int) -> str:
    """One static and one global subprogram: the global looks up the unit's map."""
    return f"""\
__attribute__((noinline)) static int s_u{i}_f{f}(int x)
{{
    struct u{i}_rec r = {{ .f0 = x, .f1 = {f} }};
    r.arr[x & 3] = cfg_u{i};
    return (int)(r.f0 + r.f1 + r.arr[1]);
}}
__attribute__((noinline)) int g_u{i}_f{f}(int x)
{{
    struct shared_key k = {{ .a = x, .b = {f} }};
    struct shared_val *v = (void *)bpf_map_lookup_elem(&map_u{i}, &k);
    if (v) {{ v->count++; return s_u{i}_f{f}(x) + (int)v->count; }}
    counter_u{i}++;
    return s_u{i}_f{f}(x + 1);
}}
"""


def unit_source(i: int, units: int, funcs: int, blob_kib: int = 0) -> str:
    """The C source of unit ``i`` of ``units``."""
    prev = (i - 1) % units
    parts = [PRELUDE]
    if blob_kib:
        parts.append(f'unsigned char blob_u{i}[{blob_kib * 1024}] SEC(".data.blob") = '
                     f'{{ {i + 1} }};\n')
    if i == 0:
        parts.append('char LICENSE[] SEC("license") = "GPL";\n')
    parts.append(f"struct u{i}_rec {{ u64 f0; u32 f1; struct shared_key k; u64 arr[4]; }};\n")
    parts.append(f"""\
struct {{
    __uint(type, 1);
    __uint(max_entries, 1024);
    __type(key, struct shared_key);
    __type(value, struct shared_val);
}} map_u{i} SEC(".maps");
u64 counter_u{i} = {i};
const volatile u32 cfg_u{i} = {i + 1};
u64 bss_u{i};
""")
    if units > 1:
        parts.extend(f"extern int g_u{prev}_f{f}(int x);\n" for f in range(funcs))
    parts.extend(_functions(i, f) for f in range(funcs))
    blob_read = f"\n    bss_u{i} += blob_u{i}[skb->len & 1023];" if blob_kib else ""
    for f in range(0, funcs, 8):
        callee = f"g_u{prev}_f{f}" if units > 1 else f"g_u{i}_f{f}"
        parts.append(f"""\
SEC("tc")
int prog_u{i}_{f}(struct __sk_buff *skb)
{{
    bss_u{i} += skb->len;{blob_read}
    return {callee}(skb->len) + g_u{i}_f{f}(skb->mark);
}}
""")
    return "".join(parts)


def write_units(outdir: str | os.PathLike, units: int, funcs: int,
                blob_kib: int = 0) -> list[str]:
    """Write ``u0.c`` .. ``u<units-1>.c`` into ``outdir``; their paths in unit order."""
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for i in range(units):
        path = os.path.join(outdir, f"u{i}.c")
        with open(path, "w") as fh:
            fh.write(unit_source(i, units, funcs, blob_kib))
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    write_units(argv[0], int(argv[1]), int(argv[2]), int(argv[3]) if len(argv) == 4 else 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
