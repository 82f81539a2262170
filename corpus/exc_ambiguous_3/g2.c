/* exc_ambiguous_3, input g2: the global `cb` meant as g1.o's callback. */
#include "../include/bpf_defs.h"

__noinline int cb(__u64 cookie)
{
	return cookie + 1;
}
