/* tag_ctor_dtor, input b: foo's constructor and destructor, and a program
 * that uses struct foo through a function's prototype. */
#include "../include/bpf_defs.h"
#include "foo.h"

__noinline int init_foo(struct foo *f)
{
	f->a = 1;
	f->b = 2;
	return 0;
}

__noinline int fini_foo(struct foo *f)
{
	f->a = 0;
	return 0;
}

/* global: the verifier checks it alone, for any pointer */
__noinline int sum_foo(struct foo *f)
{
	if (!f)
		return 0;
	return f->a + f->b;
}

/* 3 + 4 = 7 */
SEC("tc")
int sum_prog(struct __sk_buff *skb)
{
	struct foo local = { 3, 4 };

	return sum_foo(&local);
}
