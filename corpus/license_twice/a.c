/* license_twice, input a: every BPF object usually carries its own LICENSE.
 * Linking two of them keeps one "license" section (the contents must be
 * identical) and one LICENSE symbol; it is not a duplicate definition. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int lt_b_value(void);

SEC("tc")
int lt_a(struct __sk_buff *skb)
{
	return lt_b_value() + 1;	/* 41 + 1 */
}
