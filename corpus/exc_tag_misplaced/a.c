/* exc_tag_misplaced, input a: an exception_callback tag put on a global
 * variable instead of a program.  libbpf's linker accepts it and its loader
 * refuses it later; bpflink must refuse the link and name this file,
 * although the merged BTF no longer says where a tag came from. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int misplaced_counter __attribute__((btf_decl_tag("exception_callback:tm_cb")));

SEC("tc")
int tm_prog(struct __sk_buff *skb)
{
	misplaced_counter++;
	return 0;
}
