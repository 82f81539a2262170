/* tag_on_var, input a: a global variable names the function that resets it
 * (a project's own rule, declared on the command line:
 * 'reset:on=var,kind=reset,global'). */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int counter __attribute__((btf_decl_tag("reset:reset_counter"))) = 5;

/* counter starts at 5: 5 + 64 = 69 */
SEC("tc")
int count_prog(struct __sk_buff *skb)
{
	counter += skb->len;
	return counter;
}
