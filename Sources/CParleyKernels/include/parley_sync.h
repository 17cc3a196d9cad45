// Tiny synchronisation helpers the Swift worker pool needs and Swift cannot spell.
#ifndef PARLEY_SYNC_H
#define PARLEY_SYNC_H

/// Tells the core it is in a spin-wait loop (x86 `pause`), so spinning costs less power and bandwidth.
static inline void pk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
