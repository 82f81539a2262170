/* tag_project_rule, input a: a global subprogram names its hook (rule from
 * pyproject.toml) and a global variable names its reset function (rule
 * from the command line). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int level __attribute__((btf_decl_tag("reset:reset_level"))) = 7;

__attribute__((btf_decl_tag("hook:after_step")))
__noinline int step(int x)
{
	return x + level;
}

/* 64 + 7 = 71 */
SEC("tc")
int step_prog(struct __sk_buff *skb)
{
	return step(skb->len);
}
