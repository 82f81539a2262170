/* tag_project_rule, input b: the functions the tags name; nothing calls them. */
#include "../include/bpf_defs.h"

extern int level;

__noinline int after_step(int x)
{
	return x - 1;
}

__noinline int reset_level(void)
{
	level = 0;
	return 0;
}

SEC("syscall")
int b_sys(void *ctx)
{
	return 4;
}
