/* data_pointers, input a: pointers held in .data to a static variable and to
 * a string.  In a relocatable object such a pointer is its target's offset in
 * the target's section plus a relocation against that section's symbol;
 * libbpf's loader ignores relocations in data sections, so these values only
 * have to be right, never usable.  b.c has the same, and its sections land
 * after a's, so its pointers must move by a's sizes. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

static int a_val = 5;
int *a_ptr = &a_val;
const char *a_name = "alpha";

SEC("tc")
int dp_a(struct __sk_buff *skb)
{
	return a_val;
}
