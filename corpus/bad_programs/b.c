/* bad_programs, input b: more good and bad programs, and the other half of
 * a's deep chain. */
#include "../include/bpf_defs.h"

int f3(int x);                  /* a.c */
int f5(int x);
int f7(int x);
int f9(int x);

/* ---- good ---------------------------------------------------------------- */

__noinline int shared_add(int x)
{
	return x + 7;
}

/* 64-byte frame: shared_add(64) - 64 + 2 = 9; XDP_PASS is 2 */
SEC("xdp")
int good_xdp(struct xdp_md *ctx)
{
	return shared_add(ctx->data_end - ctx->data) - 64 + 2;
}

/* no data: shared_add(5) = 12 */
SEC("syscall")
int good_sys(void *ctx)
{
	return shared_add(5);
}

/* ---- the deep chain's even frames (bad_deep in a.c) ------------------------ */

__noinline int f8(int x)
{
	return f9(x) + 8;
}

__noinline int f6(int x)
{
	return f7(x) + 6;
}

__noinline int f4(int x)
{
	return f5(x) + 4;
}

__noinline int f2(int x)
{
	return f3(x) + 2;
}

/* ---- bad ----------------------------------------------------------------- */

/* verifier_loops1.c: bounded recursion, in an ordinary section.  Two
 * functions call each other, so clang cannot turn it into a loop. */
int pong(int n);

__noinline int ping(int n)
{
	if (n <= 0)
		return 0;
	return pong(n - 1) + 1;
}

__noinline int pong(int n)
{
	if (n <= 0)
		return 0;
	return ping(n - 1) + 2;
}

SEC("socket")
int bad_recursion(struct __sk_buff *skb)
{
	return ping(skb->len & 3);
}

/* exceptions_fail.c: a static exception callback, in a '?' section. */
static __noinline __attribute__((used)) int static_cb(__u64 cookie)
{
	return cookie + 1;
}

__exception_cb(static_cb)
SEC("?tc")
int bad_static_cb(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}

/* A tag that names no function, in a '?' section. */
__exception_cb(nowhere_cb)
SEC("?xdp")
int bad_missing_cb(struct xdp_md *ctx)
{
	if (ctx->data_end == ctx->data)
		bpf_throw(5);
	return 2;
}

/* Stack over 512 bytes in a chain: buffers of 264 + 256 bytes (frames
 * rounded to 272 + 256 = 528) that a helper fills, so clang keeps them. */
__noinline int big_frame(struct __sk_buff *skb)
{
	char buf[256];

	bpf_skb_load_bytes(skb, 0, buf, sizeof(buf));
	return buf[0] + buf[255];
}

SEC("?tc")
int bad_stack(struct __sk_buff *skb)
{
	char buf[264];

	bpf_skb_load_bytes(skb, 0, buf, sizeof(buf));
	return big_frame(skb) + buf[0] + buf[263];
}
