/* retained_data, input a: variables marked __attribute__((retain)).  clang
 * gives each its own data section with SHF_GNU_RETAIN (0x200000) set
 * ('.data.r_a', or the section named in SEC), which libbpf links and turns
 * into a map like any other data section; the flag must not make the linker
 * take the section header for corrupt.  b.c retains variables in the same
 * explicitly named section, so that section is merged from two inputs. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__attribute__((retain)) int r_a = 4;
static __attribute__((retain)) int r_ka SEC(".data.keep") = 60;
__attribute__((retain)) const volatile int r_ro_a = 700;

/* r_a counts runs: 4 -> 6 over two runs.  6 + 60 + 700 */
SEC("tc")
int retain_a(struct __sk_buff *skb)
{
	r_a += 1;
	return r_a + r_ka + r_ro_a;
}
