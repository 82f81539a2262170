// bpflink-cflags: -g0
/* err_no_btf, input a: built without -g, so it carries no .BTF/.BTF.ext.
 * The linker needs BTF to merge types and check externs, and should say
 * which input lacks it. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int b_func(int x); /* b.c */

SEC("tc")
int nobtf_a(struct __sk_buff *skb)
{
	return b_func(skb->len);
}
