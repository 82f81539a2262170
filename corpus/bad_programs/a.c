/* bad_programs, input a: good programs next to ones the verifier or libbpf
 * must refuse, the way the kernel's selftests keep them (exceptions_fail.c,
 * test_global_func3.c, verifier_loops1.c).  Some bad ones sit in '?'
 * sections (libbpf does not load them unless asked), some in ordinary ones.
 * The link succeeds with one warning per bad program; each good program
 * loads and runs, each bad one, loaded alone, is refused. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int shared_add(int x);          /* b.c */
int f2(int x);                  /* b.c: the deep chain alternates between inputs */
int f4(int x);
int f6(int x);
int f8(int x);

/* ---- good ---------------------------------------------------------------- */

/* skb->len is 64: shared_add(64) = 64 + 7 = 71 */
SEC("tc")
int good_tc(struct __sk_buff *skb)
{
	return shared_add(skb->len);
}

__noinline int good_exc_cb(__u64 cookie)
{
	return cookie + 40;
}

/* throws 2: good_exc_cb(2) = 42 */
__exception_cb(good_exc_cb)
SEC("tc")
int good_thrower(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(2);
	return 1;
}

/* ---- bad ----------------------------------------------------------------- */

/* exceptions_fail.c: the callback is also called directly. */
__noinline int direct_cb(__u64 cookie)
{
	return cookie + 1;
}

__exception_cb(direct_cb)
SEC("?tc")
int bad_called_cb(struct __sk_buff *skb)
{
	if (skb->len == 1)
		bpf_throw(3);
	return direct_cb(skb->len);
}

/* exceptions_fail.c: two exception_callback tags on one program, in an
 * ordinary section. */
__noinline int cb_one(__u64 cookie)
{
	return cookie + 1;
}

__noinline int cb_two(__u64 cookie)
{
	return cookie + 2;
}

__exception_cb(cb_one) __exception_cb(cb_two)
SEC("tc")
int bad_two_tags(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}

/* test_global_func3.c: a plain program whose chain is 9 frames deep,
 * across both inputs. */
__noinline int f9(int x)
{
	return x + 9;
}

__noinline int f7(int x)
{
	return f8(x) + 7;
}

__noinline int f5(int x)
{
	return f6(x) + 5;
}

__noinline int f3(int x)
{
	return f4(x) + 3;
}

__noinline int f1(int x)
{
	return f2(x) + 1;
}

SEC("tc")
int bad_deep(struct __sk_buff *skb)
{
	return f1(skb->len);
}
