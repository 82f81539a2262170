/* extern_weak_strong, input strong: the definition that must win. */
#include "../include/bpf_defs.h"

__noinline int pick(int x)
{
	return x + 1000;
}
