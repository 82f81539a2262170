// bpflink-cflags: -target bpfeb-freestanding-none
/* big_endian, input a: cross_call's a.c built for big-endian BPF. */
#include "../cross_call/a.c"
