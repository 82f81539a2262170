/* data_sections, input b: the same sections as a.c with other values. */
#include "../include/bpf_defs.h"

int b_data = 2;
const volatile int b_ro = 30;
int b_bss;
int b_custom SEC(".data.custom") = 500;
const volatile int b_ro_custom SEC(".rodata.custom") = 6000;

/* b_bss += 2 per run (2 runs -> 4).  "ABCD"[(64 >> 4) & 3] = 'A' = 65.
 * 2 + 30 + 500 + 6000 + 4 * 10000 + 65 * 100000 */
SEC("tc")
int data_b(struct __sk_buff *skb)
{
	const char *s = "ABCD";

	b_bss += 2;
	return b_data + b_ro + b_custom + b_ro_custom + b_bss * 10000 +
	       s[(skb->len >> 4) & 3] * 100000;
}
