// Debian's libopenblas-dev: the CBLAS declarations for training's float GEMMs. The library itself is opened at
// first use (ParleyTraining/Matrix.swift), not linked.
#include <cblas.h>
