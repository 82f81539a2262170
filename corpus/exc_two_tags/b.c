/* exc_two_tags, input b: an unrelated program. */
#include "../include/bpf_defs.h"

SEC("tc")
int b_prog(struct __sk_buff *skb)
{
	return 2;
}
