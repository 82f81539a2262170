/* hidden, input a: a __hidden function and uses of a __hidden variable
 * defined in b.o.
 *
 * hidden_get() indexes an array with its argument unchecked.  The verifier
 * accepts that only for a static subprogram, which it checks in the caller's
 * context with the index known; as a global function (checked on its own,
 * index unknown) it is rejected.  libbpf treats hidden functions as static,
 * so the link loads only if the output keeps the symbol hidden even though
 * b.c declares it with default visibility ("hidden wins"). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__hidden int table[4] = {3, 5, 7, 11};

extern __hidden int hidden_var; /* defined in b.c */

__hidden __noinline int hidden_get(int idx)
{
	return table[idx];
}

/* table[1] * 100 + hidden_var = 500 + 42 */
SEC("tc")
int hid_a(struct __sk_buff *skb)
{
	return hidden_get(1) * 100 + hidden_var;
}
