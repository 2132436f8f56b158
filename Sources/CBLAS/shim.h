// CBLAS (GEMM) and the two LAPACK symmetric eigensolvers we use, from OpenBLAS
// (Debian: libopenblas-dev, which ships LAPACK inside libopenblas.so).
#include <cblas.h>

// LAPACK, Fortran calling convention (netlib reference: ssyevd/dsyevd).
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
