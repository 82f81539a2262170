/* extern_var, input a: uses b_value through an extern declaration; has .data
 * and .bss variables of its own so b.o's variables land at non-zero offsets
 * of the merged sections. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int a_own = 5;
int a_zero;

extern int b_value;   /* defined in b.c, .data */
extern int b_counter; /* defined in b.c, .bss */

/* each run: b_counter += 1; returns b_value * 10 + a_own + b_counter,
 * i.e. 77 * 10 + 5 + 1 on the first run (b_ext runs afterwards) */
SEC("tc")
int ext_a(struct __sk_buff *skb)
{
	b_counter += 1;
	a_zero += 2;
	return b_value * 10 + a_own + b_counter;
}
