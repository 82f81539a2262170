/* archive_lazy, member weakdef.o: defines lib_optional, which weakref.o
 * references only weakly; a weak reference never takes a member. */
#include "../include/bpf_defs.h"

__noinline int lib_optional(int a)
{
	return a * 5;
}
