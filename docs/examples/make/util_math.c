/* libutil.a member: the function counter.o needs. */
#include "bpf.h"

#define FACTOR 10

__noinline int scale(int x)
{
	return x * FACTOR;
}
