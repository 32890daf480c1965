// The one C boundary of Swiftlet: OpenBLAS's CBLAS interface and a prefetch hint.
// Only Sources/Swiftlet/Kernels/ imports this module.
#include <cblas.h>
// OpenBLAS extensions used to size its thread pool.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// Software prefetch into all cache levels (attention reads each KV block once; the
// hardware prefetchers stop at its 4 KiB page boundary).
static inline void swiftlet_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
