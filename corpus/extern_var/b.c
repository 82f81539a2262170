/* extern_var, input b: defines the variables a.o declares extern, behind
 * padding variables so their section offsets differ from zero. */
#include "../include/bpf_defs.h"

int b_pad = 1;
int b_value = 77;
int b_bss_pad;
int b_counter;

/* runs after ext_a: b_counter is 1 on entry, 2 on return */
SEC("tc")
int ext_b(struct __sk_buff *skb)
{
	b_counter += 1;
	b_bss_pad += 3;
	return b_value + b_pad * 100 + b_counter * 1000;
}
