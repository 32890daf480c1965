// The one C boundary of Swiftlet: OpenBLAS's CBLAS interface.
// Only Sources/Swiftlet/Kernels/ imports this module.
#include <cblas.h>
// OpenBLAS extensions used to size its thread pool.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
