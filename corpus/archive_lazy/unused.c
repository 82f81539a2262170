/* archive_lazy, member unused.o: nothing references lib_unused, so a link
 * takes it only with --whole-archive. */
#include "../include/bpf_defs.h"

__noinline int lib_unused(int a)
{
	return a + 1;
}
