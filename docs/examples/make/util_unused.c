/* libutil.a member that no program references: an archive link leaves it out. */
#include "bpf.h"

__noinline int unused_helper(int x)
{
	return x + 1;
}
