/* exc_cross, input b: defines the global exception callback a.o names. */
#include "../include/bpf_defs.h"

__noinline int cross_cb(__u64 cookie)
{
	return cookie + 500;
}
