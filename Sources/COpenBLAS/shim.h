// Debian's libopenblas-dev: CBLAS float GEMMs for training, plus the thread-count setter.
#include <cblas.h>
