/* exc_called, input b: calls a.o's exception callback directly. */
#include "../include/bpf_defs.h"

int exc_cb(__u64 cookie); /* a.c */

__noinline int b_work(int x)
{
	return exc_cb(x) * 2;
}
