/* CUDA errors worded as crashgrid words them ("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2)"), for the C ports that
 * load libcuda.so.1 themselves (cuda, eglstream, nvenc). `get_name` is the port's loaded cuGetErrorName, NULL
 * while the driver is not loaded. Header-only: each port is one file with its own function table. */
#ifndef CRASHGRID_REPRO_CUDA_H_
#define CRASHGRID_REPRO_CUDA_H_

#include <cuda.h>

#include "repro.h"

typedef CUresult (*repro_cu_error_name_fn)(CUresult, const char**);

static inline const char* repro_cu_name(repro_cu_error_name_fn get_name, CUresult r) {
  const char* name = NULL;
  if (get_name && get_name(r, &name) == CUDA_SUCCESS && name) return name;
  return "unknown CUDA error";
}

/* 0 on success, else -1 with "what: NAME (code)" in err (n bytes). */
static inline int repro_cu_ok(repro_cu_error_name_fn get_name, CUresult r, const char* what, char* err, size_t n) {
  if (r == CUDA_SUCCESS) return 0;
  repro_say(err, n, "%s: %s (%d)", what, repro_cu_name(get_name, r), (int)r);
  return -1;
}

#endif /* CRASHGRID_REPRO_CUDA_H_ */
