/* The GEMMs of one llcbench step, in any CBLAS library, at the step's own shapes: the BLAS
 * comparison of docs/performance.md ("Which BLAS").
 *
 *     cc -O2 -fopenmp tools/blas_shapes.c -o out/blas_shapes -ldl
 *     out/blas_shapes LIBRARY.so THREADS SPLIT 391,392,50,438,448 [BATCH] [SECONDS]
 *
 * LIBRARY.so: a shared library with cblas_sgemm (OpenBLAS, BLIS, ...), loaded with dlopen.
 * SPLIT: "rows" runs every product as llcbench does (dln::gemm, lib/dln/linalg.cpp: row blocks of
 * max(64, ceil(m / 8) rounded up to 16) rows, spread over THREADS OpenMP threads, each block one
 * call; the library should then be its single-threaded build), "library" as one call each,
 * threaded by the library itself. The products, row-major, batch B, widths H_1..H_{M+1}: the
 * targets X P^T, the forward A_s W_s^T, the weight gradients G^T A_s and the input gradients G W_s,
 * exactly the calls of DlnModel::step_gemms (lib/backend/cpu/dln_model.cpp). Threads of a
 * library's pthread build come from its own variable (OPENBLAS_NUM_THREADS, BLIS_NUM_THREADS):
 * set it to THREADS for "library" and to 1 for "rows". Prints one line:
 * milliseconds per step (mean over the repetitions after one warm-up) and GFLOP/s.
 */
#include <dlfcn.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                         float*, int);
static sgemm_fn sgemm;
static int threads, split_rows;

static long row_block(long m) {
  long eighth = (m + 7) / 8;
  long r = (eighth + 15) / 16 * 16;
  return r < 64 ? 64 : r;
}

static void gemm(int ta, int tb, long m, long n, long k, const float* a, long lda, const float* b, long ldb,
                 float* c, long ldc) {
  if (!split_rows) {
    sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
          (int)ldb, 0.0f, c, (int)ldc);
    return;
  }
  long rows = row_block(m), blocks = (m + rows - 1) / rows;
  int parallel = (double)m * (double)n * (double)k >= (double)(1 << 20);
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
  for (long i = 0; i < blocks; ++i) {
    omp_set_num_threads(1); /* an OpenMP BLAS called in a team of one would use every thread */
    long r = i * rows, mr = m - r < rows ? m - r : rows;
    const float* ab = ta ? a + r : a + r * lda;
    sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, (int)mr, (int)n, (int)k, 1.0f, ab, (int)lda, b,
          (int)ldb, 0.0f, c + r * ldc, (int)ldc);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float* buffer(long n) {
  float* p = malloc(sizeof(float) * (size_t)n);
  for (long i = 0; i < n; ++i) p[i] = 0.01f * (float)(i % 97);
  return p;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s LIBRARY.so THREADS rows|library H1,H2,... [BATCH] [SECONDS]\n", argv[0]);
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
  if (!lib || !(sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm"))) {
    fprintf(stderr, "%s: no cblas_sgemm in %s: %s\n", argv[0], argv[1], dlerror());
    return 2;
  }
  threads = atoi(argv[2]);
  omp_set_num_threads(threads); /* the library's own threads, for OpenMP builds (split "library") */
  split_rows = strcmp(argv[3], "rows") == 0;
  long h[32], m = 0;
  for (char* tok = strtok(argv[4], ","); tok && m < 32; tok = strtok(NULL, ",")) h[m++] = atol(tok);
  m -= 1; /* layers */
  long b = argc > 5 ? atol(argv[5]) : 500;
  double seconds = argc > 6 ? atof(argv[6]) : 2.0;
  long hmax = 0, d = 0, off[32];
  for (long s = 0; s <= m; ++s) hmax = h[s] > hmax ? h[s] : hmax;
  for (long s = 0; s < m; ++s) off[s] = d, d += h[s] * h[s + 1];
  float *w = buffer(d), *grad = buffer(d), *prod = buffer(h[0] * h[m]), *y = buffer(b * h[m]);
  float *act[33], *ga = buffer(b * hmax), *gb = buffer(b * hmax);
  for (long s = 0; s <= m; ++s) act[s] = buffer(b * h[s]);
  double flops = 2.0 * b * h[0] * h[m];
  for (long s = 0; s < m; ++s) flops += 4.0 * b * h[s] * h[s + 1] + (s > 0 ? 2.0 * b * h[s] * h[s + 1] : 0);
  long reps = 0;
  double start = 0;
  for (int warm = 1;; warm = 0) {
    gemm(0, 1, b, h[m], h[0], act[0], h[0], prod, h[0], y, h[m]);
    for (long s = 0; s < m; ++s) gemm(0, 1, b, h[s + 1], h[s], act[s], h[s], w + off[s], h[s], act[s + 1], h[s + 1]);
    float *g = ga, *gn = gb;
    for (long s = m; s-- > 0;) {
      gemm(1, 0, h[s + 1], h[s], b, g, h[s + 1], act[s], h[s], grad + off[s], h[s]);
      if (s > 0) {
        gemm(0, 0, b, h[s], h[s + 1], g, h[s + 1], w + off[s], h[s], gn, h[s]);
        float* t = g;
        g = gn;
        gn = t;
      }
    }
    if (warm) {
      start = now();
      continue;
    }
    ++reps;
    if (now() - start >= seconds) break;
  }
  double ms = 1e3 * (now() - start) / (double)reps;
  printf("%s threads %d split %s: %.3f ms a step, %.1f GFLOP/s (%.1f MFLOP a step, %ld steps)\n", argv[1], threads,
         argv[3], ms, flops / ms / 1e6, flops / 1e6, reps);
  return 0;
}
