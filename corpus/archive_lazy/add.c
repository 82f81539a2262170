/* archive_lazy, member add.o: taken for lib_add; needs lib_mul from mul.o,
 * which comes before it in the archive. */
#include "../include/bpf_defs.h"

int lib_mul(int a, int b); /* mul.c */

__noinline int lib_add(int a, int b)
{
	return lib_mul(a, 2) + b;
}
