/* statics_everywhere, input b: the same static names as a.c with other
 * bodies and values.  first() is the first function of b's .text (offset 0,
 * so calls to it carry only the section symbol) and the static callback cb()
 * follows it, so its ld_imm64 carries a non-zero offset of its own (32) on
 * top of where b's .text lands in the output. */
#include "../include/bpf_defs.h"

static int s_data = 300;
static const volatile int s_ro = 700;
static int b_hits;

static __noinline int first(int x)
{
	return x * 3 + s_data;
}

static __noinline int second(int x)
{
	return first(x) + s_ro;
}

static long cb(__u32 index, void *ctx)
{
	*(long *)ctx += index * 2 + s_data;
	return 0;
}

/* acc = 300 + 302 + 304 = 906; "WORLD"[0] = 'W' = 87; first(64) = 492;
 * b_hits = 2: 492 + 87 + 906 * 1000 + 2 * 100000 */
SEC("tc")
int se_b_tc(struct __sk_buff *skb)
{
	const char *s = "WORLD";
	int ret = first(skb->len);	/* referenced before cb: first() leads .text */
	long acc = 0;

	b_hits += 2;
	bpf_loop(3, cb, &acc, 0);
	return ret + s[skb->len & 3] + acc * 1000 + b_hits * 100000;
}

/* second(64) = 492 + 700 */
SEC("tc")
int se_b_tc2(struct __sk_buff *skb)
{
	return second(skb->len);
}

/* first(5) + 100 * second(6) = 315 + 100 * 1018 */
SEC("xdp")
int se_b_xdp(struct xdp_md *ctx)
{
	return first(5) + second(6) * 100;
}
