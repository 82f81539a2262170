/* data_sections, input a: one variable in each kind of data section libbpf
 * turns into a map, plus a string literal (.rodata.str1.1) read by code.  b.c
 * has the same set, so every section is merged from two inputs. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int a_data = 1;                                            /* .data */
const volatile int a_ro = 20;                              /* .rodata */
int a_bss;                                                 /* .bss */
int a_custom SEC(".data.custom") = 300;                    /* .data.custom */
const volatile int a_ro_custom SEC(".rodata.custom") = 4000; /* .rodata.custom */

/* a_bss counts runs (3).  The string byte is "wxyz"[64 & 3] = 'w' = 119.
 * 1 + 20 + 300 + 4000 + 3 * 10000 + 119 * 100000 */
SEC("tc")
int data_a(struct __sk_buff *skb)
{
	const char *s = "wxyz";

	a_bss += 1;
	return a_data + a_ro + a_custom + a_ro_custom + a_bss * 10000 +
	       s[skb->len & 3] * 100000;
}
