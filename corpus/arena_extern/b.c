/* arena_extern, input b: the arena declared extern with the same __ulong
 * map_extra as a.c's definition, and used. */
#include "../include/bpf_defs.h"

#define ___ulong_paste(a, b) a##b
#define ___ulong_name(n) ___ulong_paste(__unique_value, n)
#define __ulong(name, val) enum { ___ulong_name(__COUNTER__) = val } name

#define BPF_MAP_TYPE_ARENA 33
#define BPF_F_MMAPABLE (1U << 10)

extern struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << 16);
	__ulong(map_extra, 1ull << 44);
} arena SEC(".maps");

/* 2 when the arena's address is loaded */
SEC("syscall")
int arena_b(void *ctx)
{
	void *map = &arena;

	asm volatile("" : "+r"(map));
	return map ? 2 : 0;
}
