// oneDNN (Debian: libdnnl-dev; the C API of oneDNN 2.x) and the two OpenMP calls that set and
// read the thread count of its parallel regions (Debian's libdnnl runs on GNU OpenMP, libgomp).
#include <dnnl.h>

// OpenMP runtime (OpenMP 5.1 §3.2.1, §3.2.3), declared here because omp.h lives in the
// compiler's private include folder.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
