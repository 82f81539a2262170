/* deep_chain, input b: the even-numbered links of the chain. */
#include "../include/bpf_defs.h"

int f3(int x); /* a.c */
int f5(int x); /* a.c */
int f7(int x); /* a.c */
int f9(int x); /* a.c */

__noinline int f2(int x)
{
	return f3(x + 1) + 2;
}

__noinline int f4(int x)
{
	return f5(x + 1) + 4;
}

__noinline int f6(int x)
{
	return f7(x + 1) + 6;
}

__noinline int f8(int x)
{
	return f9(x + 1) + 8;
}
