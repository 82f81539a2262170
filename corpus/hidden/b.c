/* hidden, input b: defines hidden_var; declares hidden_get() without
 * __hidden, so the link must take visibility from the hidden definition. */
#include "../include/bpf_defs.h"

__hidden int hidden_var = 42;

extern int hidden_get(int idx); /* defined __hidden in a.c */

/* table[3] * 100 + hidden_var = 1100 + 42 */
SEC("tc")
int hid_b(struct __sk_buff *skb)
{
	return hidden_get(3) * 100 + hidden_var;
}
