/* tag_ctor_ambiguous, input a: struct foo's ctor tag names init_foo, and
 * both inputs have a static init_foo: which one a loader took would depend
 * on the input order. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct __attribute__((btf_decl_tag("ctor:init_foo"))) foo {
	int a;
};

static __noinline int init_foo(struct foo *f)
{
	f->a = 10;
	return 0;
}

/* init_foo sets 10: 10 + 1 = 11 */
SEC("tc")
int a_prog(struct __sk_buff *skb)
{
	struct foo f;

	init_foo(&f);
	return f.a + 1;
}
