/* recursion, input b: the other half of the cycle. */
#include "../include/bpf_defs.h"

int rec_a(int n); /* a.c */

__noinline int rec_b(int n)
{
	if (n <= 0)
		return 0;
	return rec_a(n - 1) + 2;
}
