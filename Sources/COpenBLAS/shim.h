#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#include <pmmintrin.h>
#endif

/// Flush denormal results to zero and treat denormal inputs as zero on this thread (x86 MXCSR
/// FTZ|DAZ). Denormals make every float operation on them ~100x slower; values below 1.2e-38
/// carry no information for training. Returns 1 when set, 0 on other architectures.
static inline int spice_flush_denormals(void) {
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040);
    return 1;
#else
    return 0;
#endif
}

/// The x86 MXCSR (rounding and denormal modes) of this thread, and setting it: worker threads take
/// the dispatching thread's modes so parallel kernels compute exactly what the serial ones do.
static inline unsigned spice_get_fp_mode(void) {
#if defined(__x86_64__)
    return _mm_getcsr();
#else
    return 0;
#endif
}

static inline void spice_set_fp_mode(unsigned mode) {
#if defined(__x86_64__)
    _mm_setcsr(mode);
#endif
}

/// A spin-wait hint (x86 PAUSE).
static inline void spice_cpu_relax(void) {
#if defined(__x86_64__)
    _mm_pause();
#endif
}

static inline int spice_flushes_denormals(void) {
#if defined(__x86_64__)
    return (_mm_getcsr() & 0x8040) == 0x8040;
#else
    return 0;
#endif
}
#endif
