/* recursion, input a: rec_a() calls rec_b() in b.o, which calls rec_a()
 * back.  The recursion is bounded at run time, but BPF forbids recursive
 * calls (the verifier reports "the call stack of 8 frames is too deep"). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int rec_b(int n); /* b.c */

__noinline int rec_a(int n)
{
	if (n <= 0)
		return 0;
	return rec_b(n - 1) + 1;
}

SEC("tc")
int rec_prog(struct __sk_buff *skb)
{
	return rec_a(skb->len & 3);
}
