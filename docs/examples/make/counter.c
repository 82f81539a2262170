/* The program of counter.bpf.o: it calls scale(), which libutil.a defines. */
#include "bpf.h"

char LICENSE[] SEC("license") = "GPL";

int scale(int x);

SEC("tc")
int count(void *ctx)
{
	return scale(4);
}
