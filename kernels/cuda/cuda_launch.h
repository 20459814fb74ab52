// Shared by our .cu files (cuda_elementwise.cu, cuda_spatial.cu, cuda_train.cu): the block size,
// the grid for a count of work items, and the grid-stride loop the kernels use.
#ifndef PNAS_KERNELS_CUDA_LAUNCH_H
#define PNAS_KERNELS_CUDA_LAUNCH_H

#include <stddef.h>

#define KN_THREADS 256

// Enough blocks for `count` threads of work, capped: the kernels use grid-stride loops.
static inline unsigned blocks_for(size_t count) {
  size_t b = (count + KN_THREADS - 1) / KN_THREADS;
  return (unsigned)(b < 65536 ? (b ? b : 1) : 65536);
}

#define GRID_STRIDE(i, count)                                                                      \
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (count);                     \
       i += (size_t)gridDim.x * blockDim.x)

#endif
