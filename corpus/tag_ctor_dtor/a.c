/* tag_ctor_dtor, input a: a program that uses struct foo through a global
 * variable; foo's ctor and dtor live in b.o.  Nothing calls them: only the
 * tags name them, so they are reachable from foo_prog through 'uses'. */
#include "../include/bpf_defs.h"
#include "foo.h"

char LICENSE[] SEC("license") = "GPL";

struct foo g_foo;

/* skb->len is 64: 64 + 1 = 65 */
SEC("tc")
int foo_prog(struct __sk_buff *skb)
{
	g_foo.a = skb->len;
	return g_foo.a + 1;
}
