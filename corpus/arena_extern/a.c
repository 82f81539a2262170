/* arena_extern, input a: defines an arena map the way sched_ext schedulers
 * do, its user address (map_extra, 1 << 44) given by libbpf's __ulong: a
 * member whose type is an enum with one enumerator, here a BTF ENUM64
 * because the value does not fit in 32 bits.  b.o declares it extern. */
#include "../include/bpf_defs.h"

/* libbpf's bpf_helpers.h spelling, with a two-step paste so __COUNTER__
 * expands and every __ulong gets an enumerator of its own. */
#define ___ulong_paste(a, b) a##b
#define ___ulong_name(n) ___ulong_paste(__unique_value, n)
#define __ulong(name, val) enum { ___ulong_name(__COUNTER__) = val } name

#define BPF_MAP_TYPE_ARENA 33
#define BPF_F_MMAPABLE (1U << 10)

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << 16);		/* pages */
	__ulong(map_extra, 1ull << 44);		/* start of the user mapping */
} arena SEC(".maps");

/* 1 when the arena's address is loaded (the asm keeps the compiler from
 * folding the test away) */
SEC("syscall")
int arena_a(void *ctx)
{
	void *map = &arena;

	asm volatile("" : "+r"(map));
	return map ? 1 : 0;
}
