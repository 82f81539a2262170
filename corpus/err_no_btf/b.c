/* err_no_btf, input b: an ordinary object with BTF. */
#include "../include/bpf_defs.h"

__noinline int b_func(int x)
{
	return x + 1;
}
