/* exc_static, input a: the exception callback is a static function, which
 * libbpf and the kernel refuse (it must be global).  `used` keeps clang from
 * dropping it, since nothing calls it. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

static __noinline __attribute__((used)) int static_cb(__u64 cookie)
{
	return cookie + 1;
}

__exception_cb(static_cb)
SEC("tc")
int static_cb_prog(struct __sk_buff *skb)
{
	if (skb->len == 64)
		bpf_throw(5);
	return 0;
}
