/* tag_ctor_ambiguous, input b: another static init_foo, for the same struct. */
#include "../include/bpf_defs.h"

struct __attribute__((btf_decl_tag("ctor:init_foo"))) foo {
	int a;
};

static __noinline int init_foo(struct foo *f)
{
	f->a = 20;
	return 0;
}

/* init_foo sets 20: 20 + 2 = 22 */
SEC("tc")
int b_prog(struct __sk_buff *skb)
{
	struct foo f;

	init_foo(&f);
	return f.a + 2;
}
