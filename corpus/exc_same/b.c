/* exc_same, input b: an unrelated program and global function, so the
 * callback's input is linked with another one. */
#include "../include/bpf_defs.h"

__noinline int b_double(int x)
{
	return x * 2;
}

SEC("tc")
int b_prog(struct __sk_buff *skb)
{
	return b_double(21);
}
