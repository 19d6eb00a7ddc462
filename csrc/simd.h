/* simd.h: the only platform #ifdefs. Vector width for the vector-extension kernels
 * (AVX2 natively through target attributes chosen at run time, SIMD128 in wasm). */
#ifndef AD_SIMD_H
#define AD_SIMD_H

#if defined(__wasm__)
#define AD_WASM 1
#define AD_THREADS 0
#if defined(__wasm_simd128__)
#define AD_SIMD_BYTES 16
#else
#define AD_SIMD_BYTES 0
#endif
#else
#define AD_WASM 0
#define AD_THREADS 1
#define AD_SIMD_BYTES 32
#endif

#if defined(__x86_64__) && !AD_WASM
#define AD_X86 1
#else
#define AD_X86 0
#endif

/* Streaming loops (optimizer updates, dense backward) compiled twice natively, the x86-64-v3 (AVX2 + FMA)
 * copy picked at load time by the dynamic linker; a no-op elsewhere. (One clone per target: a list
 * "avx2,fma" would make an AVX2 copy without FMA and an FMA copy without AVX2.) */
#if AD_X86 && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define AD_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
/* The elementwise maps and reductions likewise, AVX-512 too, and without FMA contraction: their results are the same
 * bits at every width, natively and in WebAssembly (tests/test_parity.py); baseline-only they ran 4 floats at a time
 * with spills (sigmoid 3.6 ns an element, a float sum 1.2 ns: one dependent add after another) */
#define AD_WIDE_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), optimize("fp-contract=off")))
#else
#define AD_TARGET_CLONES
#define AD_WIDE_CLONES
#endif

/* before a loop whose iterations the compiler must take as independent (distinct buffers it cannot prove so) */
#if defined(__clang__)
#define AD_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define AD_IVDEP _Pragma("GCC ivdep")
#else
#define AD_IVDEP
#endif

/* GCC in ISO C mode (-std=c11) never fuses a*b+c into an FMA (-ffp-contract=off); kernels
 * that rely on FMA contraction of vector expressions opt back in per function. Clang already
 * contracts within an expression by default and has no optimize attribute. */
#if defined(__GNUC__) && !defined(__clang__)
#define AD_FP_CONTRACT __attribute__((optimize("fp-contract=fast")))
#else
#define AD_FP_CONTRACT
#endif

#endif
