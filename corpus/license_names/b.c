/* license_names, input b: the same license string as a.c, named _license. */
#include "../include/bpf_defs.h"

char _license[] SEC("license") = "GPL";

SEC("tc")
int ln_b(struct __sk_buff *skb)
{
	return skb->len + 200;	/* 64 + 200 */
}
