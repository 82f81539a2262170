/* extern_prog_array, input a: a PROG_ARRAY whose slots are initialised in
 * .maps, slot 1 with a program b.c defines and slot 2 with one of a's own.
 * b.c declares the array extern to tail-call through it.  The two
 * declarations must be compared as maps: a prog array's 'values' points to
 * function prototypes, not to an inner map definition. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)12;

int epa_tail_b(struct __sk_buff *skb);		/* b.c */
int epa_tail_a(struct __sk_buff *skb);

struct {
	__uint(type, 3);			/* BPF_MAP_TYPE_PROG_ARRAY */
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} epa_jmp SEC(".maps") = {
	.values = { [1] = (void *)&epa_tail_b, [2] = (void *)&epa_tail_a },
};

SEC("tc")
int epa_tail_a(struct __sk_buff *skb)
{
	return 77;
}

/* tail-calls b's program in slot 1: 88; 5 if the slot is empty */
SEC("tc")
int epa_entry_a(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &epa_jmp, 1);
	return 5;
}
