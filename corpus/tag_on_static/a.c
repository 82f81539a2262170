/* tag_on_static, input a: a static subprogram carries a 'hook:' tag (the
 * rule is declared in this folder's pyproject.toml) naming a function in
 * b.o that nothing calls. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__attribute__((btf_decl_tag("hook:on_event")))
static __noinline int handle(int x)
{
	return x * 2;
}

/* 64 * 2 = 128 */
SEC("tc")
int static_prog(struct __sk_buff *skb)
{
	return handle(skb->len);
}
