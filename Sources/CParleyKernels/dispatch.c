#include "parley_kernels.h"
