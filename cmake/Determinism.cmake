# Determinism (docs/design.md, "Determinism: what is guaranteed"): the same experiment and seed
# give the same bits on every lane width, thread count and CPU only if no compiler rewrites the
# floating-point operations as written. Linked by the engine and the model (PUBLIC), so every file
# that includes their headers (engine/simd/*) is compiled with it.
#   -ffp-contract=off  no contraction of a*b+c into one fused multiply-add (GCC's default for
#                      non-ISO C++ is "fast", which contracts wherever the target has FMA);
#   -fno-fast-math     no value-changing optimisations, even if CMAKE_CXX_FLAGS asks for them;
#   -mno-fma (x86-64)  no FMA instructions at all, also in the files compiled for AVX2 and
#                      AVX-512 (agents/CMakeLists.txt adds only the instruction set to those).
# Never -march=native: the SIMD kernels are chosen at run time (agents/kernel.cpp).
add_library(wedge_determinism INTERFACE)
add_library(wedge::determinism ALIAS wedge_determinism)
target_compile_options(wedge_determinism INTERFACE -ffp-contract=off -fno-fast-math)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  target_compile_options(wedge_determinism INTERFACE -mno-fma)
endif()
