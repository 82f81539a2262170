// bpflink-cflags: -target bpfeb-freestanding-none
/* err_mixed_endian, input b: the same kind of object built big-endian. */
#include "../include/bpf_defs.h"

__noinline int b_func(int x)
{
	return x + 1;
}
