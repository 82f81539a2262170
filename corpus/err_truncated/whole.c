/* err_truncated: compiled to whole.o, whose first half build.py writes to
 * a.o (see DERIVED in build.py).  Only a.o is a link input. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int helper(int x)
{
	return x + 1;
}

SEC("tc")
int whole_prog(struct __sk_buff *skb)
{
	return helper(skb->len);
}
