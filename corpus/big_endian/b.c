// bpflink-cflags: -target bpfeb-freestanding-none
/* big_endian, input b: cross_call's b.c built for big-endian BPF. */
#include "../cross_call/b.c"
