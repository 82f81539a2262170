/* exc_ambiguous_2, input g2: an unrelated static function also named `cb`,
 * called by this input's own program.  After linking, the tag's
 * "exception_callback:cb" no longer names one function. */
#include "../include/bpf_defs.h"

static __noinline int cb(int x)
{
	return x * 3;
}

SEC("tc")
int g2_prog(struct __sk_buff *skb)
{
	return cb(skb->len);
}
