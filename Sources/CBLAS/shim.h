// LAPACK from OpenBLAS (Debian: libopenblas-dev, which ships LAPACK inside libopenblas.so), used
// only behind NINEngine's `ComputeBackend` for what oneDNN does not have: the double-precision
// symmetric rank-k update and eigensolver of the ZCA fit.
#include <cblas.h>

// LAPACK, Fortran calling convention (netlib reference: dsyevd).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
