/* retained_data, input b: more retained variables, one in a.c's '.data.keep'. */
#include "../include/bpf_defs.h"

static __attribute__((retain)) int r_kb SEC(".data.keep") = 8000;
__attribute__((retain)) int r_b = 90000;

/* 90000 + 8000 + 2 (one run) */
SEC("tc")
int retain_b(struct __sk_buff *skb)
{
	r_b += 2;
	return r_b + r_kb;
}
