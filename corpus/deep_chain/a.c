/* deep_chain, input a: deep_prog calls f1, f1 calls f2, ... up to f9: ten
 * frames counting the program's own, beyond the kernel's limit of eight.
 * The odd-numbered links of the chain live here, the even ones in b.c. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int f2(int x); /* b.c */
int f4(int x); /* b.c */
int f6(int x); /* b.c */
int f8(int x); /* b.c */

__noinline int f1(int x)
{
	return f2(x + 1) + 1;
}

__noinline int f3(int x)
{
	return f4(x + 1) + 3;
}

__noinline int f5(int x)
{
	return f6(x + 1) + 5;
}

__noinline int f7(int x)
{
	return f8(x + 1) + 7;
}

__noinline int f9(int x)
{
	return x + 9;
}

SEC("tc")
int deep_prog(struct __sk_buff *skb)
{
	return f1(skb->len);
}
