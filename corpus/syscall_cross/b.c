/* syscall_cross, input b: the callee and the run counter. */
#include "../include/bpf_defs.h"

int b_runs;

__noinline int b_mul(int x, int y)
{
	return x * y;
}
