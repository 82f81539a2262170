/* statics_everywhere, input a: static functions, a static bpf_loop callback
 * and static variables in .data, .bss and .rodata, with the same names as in
 * b.c (except the counters, which the test reads back by name).  Two tc
 * programs and an xdp program call the statics, and b.c's programs sit in
 * the same sections, so every call and ld_imm64 against a section symbol
 * (.text, .data, .rodata, .rodata.str1.1) must move with its own input. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

static int s_data = 3;
static const volatile int s_ro = 7;
static int a_hits;

static __noinline int first(int x)
{
	return x + s_data;
}

static __noinline int second(int x)
{
	return first(x) * 2 + s_ro;
}

static long cb(__u32 index, void *ctx)
{
	*(long *)ctx += index + s_data;
	return 0;
}

/* acc = 3 + 4 + 5 = 12; "hello"[64 & 3] = 'h' = 104; first(64) = 67;
 * a_hits is 2 on the second run: 67 + 104 + 12 * 1000 + 2 * 100000 */
SEC("tc")
int se_a_tc(struct __sk_buff *skb)
{
	const char *s = "hello";
	long acc = 0;

	a_hits += 1;
	bpf_loop(3, cb, &acc, 0);
	return first(skb->len) + s[skb->len & 3] + acc * 1000 + a_hits * 100000;
}

/* second(64) = 67 * 2 + 7 */
SEC("tc")
int se_a_tc2(struct __sk_buff *skb)
{
	return second(skb->len);
}

/* first(5) + 100 * second(6) = 8 + 100 * 25 */
SEC("xdp")
int se_a_xdp(struct xdp_md *ctx)
{
	return first(5) + second(6) * 100;
}
