/* tag_on_static, input b: the hook, named only by the tag. */
#include "../include/bpf_defs.h"

__noinline int on_event(int x)
{
	return x + 1;
}

SEC("syscall")
int b_sys(void *ctx)
{
	return 3;
}
