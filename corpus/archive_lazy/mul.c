/* archive_lazy, member mul.o: taken only because add.o needs lib_mul. */
#include "../include/bpf_defs.h"

int lib_scale = 3;

__noinline int lib_mul(int a, int b)
{
	return a * b * lib_scale;
}
