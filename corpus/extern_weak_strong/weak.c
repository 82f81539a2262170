/* extern_weak_strong, input weak: a weak default that must lose. */
#include "../include/bpf_defs.h"

__weak __noinline int pick(int x)
{
	return x + 1;
}
