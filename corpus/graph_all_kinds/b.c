/* graph_all_kinds, input b: the loop callback, a global function that makes
 * a same-section (pc-relative) call, and a function nothing calls. */
#include "../include/bpf_defs.h"

struct acc {
	__u64 sum;
};

__hidden long step(__u32 index, void *ctx)
{
	struct acc *a = ctx;

	a->sum += index + 1;
	return 0;
}

static __noinline int triple(int x)
{
	return x * 3;
}

__noinline int scale(int x)
{
	return triple(x);
}

/* never called: no program loads it */
__noinline int unused_fn(int x)
{
	return x - 1;
}
