// Helpers shared by the fast CPU kernels: OpenMP thread id, the fixed reduction partition, the
// small-GEMM dispatch. Not part of the public seam.
#ifndef PNAS_KERNELS_CPU_INTERNAL_H
#define PNAS_KERNELS_CPU_INTERNAL_H

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#define KN_TID() omp_get_thread_num()
#else
#define KN_TID() 0
#endif

// Reductions over the batch (conv weight gradients) are split into this many fixed chunks of
// images, each summed in image order, then the chunks are summed in chunk order: the result does
// not depend on the thread count or on scheduling.
#define KN_CHUNKS 8

// Below this many floats an element-wise op runs on one thread (fork/join costs more).
#define KN_PAR_MIN 16384

// C (M,N) = A (M,K) [transposed when ta: stored (K,M)] * B (K,N) [transposed when tb: stored
// (N,K)] + beta*C, row-major, single-threaded (callers parallelise around it).
void kn_gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float beta,
             float *C);

#endif
