// AVX-512 VNNI kernels (dpbusd / dpwssd, AVX-512BW mask moves); selected at run time, never required by the binary.
#include "kernels_internal.h"

#if defined(__x86_64__)
#include <math.h>
#define PK_TARGET_STR "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"
#define PK_VNNI 1
#define PK_SFX(name) name##_avx512
#ifndef PK_MV_R
#define PK_MV_R 16
#endif
#ifndef PK_MM_R
#define PK_MM_R 16
#endif
#ifndef PK_MM_C
#define PK_MM_C 4
#endif
// 16 rows x 2 columns for the 32-element types (measured: 2 beats 4 below the panel's column threshold), 4 columns
// for K-quants (tiled as 4-row groups)
#define PK_MM_CT(T) (((T) == PK_Q4_K || (T) == PK_Q5_K || (T) == PK_Q6_K) ? PK_MM_C : 2)
#include "kernels_x86_impl.h"
#endif
