// AVX2 + FMA + F16C kernels (maddubs + madd); selected at run time, never required by the binary.
#include "kernels_internal.h"

#if defined(__x86_64__)
#include <math.h>
#define PK_TARGET_STR "avx2,fma,f16c"
#define PK_VNNI 0
#define PK_SFX(name) name##_avx2
#ifndef PK_MV_R2
#define PK_MV_R 4
#else
#define PK_MV_R PK_MV_R2
#endif
#ifndef PK_MM_R2
#define PK_MM_R 2
#define PK_MM_C 4
#else
#define PK_MM_R PK_MM_R2
#define PK_MM_C PK_MM_C2
#endif
#include "kernels_x86_impl.h"
#endif
