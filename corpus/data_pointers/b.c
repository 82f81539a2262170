/* data_pointers, input b: the same as a.c; linked second, its static
 * variable and its string no longer sit at offset 0 of their sections. */
#include "../include/bpf_defs.h"

static int b_val = 6;
int *b_ptr = &b_val;
const char *b_name = "bee";

SEC("tc")
int dp_b(struct __sk_buff *skb)
{
	return b_val;
}
