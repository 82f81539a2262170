/* license_names, input a: the license string under the usual name.  b.c keeps
 * the same string under another name (samples/bpf style '_license'), so the
 * link keeps one 'license' section whose BTF DATASEC must describe only the
 * variable that still has a symbol: an entry for b's '_license' would overlap
 * LICENSE at offset 0 and name a variable libbpf cannot find ("failed to find
 * symbol for variable '_license'"), and the output would not even open. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct sum_ctx {
	__u64 sum;
};

/* a static callback: the program needs its BTF to load */
static long add_index(__u32 index, void *ctx)
{
	((struct sum_ctx *)ctx)->sum += index;
	return 0;
}

/* 0 + 1 + 2 + 3 + 100 */
SEC("tc")
int ln_a(struct __sk_buff *skb)
{
	struct sum_ctx c = {};

	bpf_loop(4, add_index, &c, 0);
	return c.sum + 100;
}
