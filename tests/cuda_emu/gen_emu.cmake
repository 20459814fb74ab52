# cuda-emu: turns a CUDA source of ours into C++ that g++ compiles against tests/cuda_emu/emu
# (run at build time: cmake -DIN=... -DOUT=... -DEMU=... [-DHEADER=1] -P gen_emu.cmake).
#  .cu:  k<<<grid, block, shmem, stream>>>(args)  ->  k * kn_emu_cfg(grid, block, shmem, stream)(args)
#        (plain text replacement of <<< and >>>, so templates, macros and multi-line launches all
#        work; operator* in emu/cuda_runtime.h runs the launch). The launchers are renamed
#        kn_cuk_* -> kn_emu_cuk_* (no clash with the real ones where the CUDA backend is linked
#        too), the file includes emu/cuda_runtime.h first (as nvcc does) and keeps its own line
#        numbers (#line), so diagnostics point at kernels/cuda/*.cu.
#  header (HEADER=1, kernels/cuda/cuda_kernels.h): the same renaming, the shim's runtime header by
#        absolute path, and KN_EMU_HAVE_<launcher> / KN_EMU_LAUNCHERS for the test.
# Limits: `<<<` and `>>>` may appear only in launches (or comments); kernels must not be
# overloaded; no dynamic shared memory (`extern __shared__`).
file(READ "${IN}" text)
string(REPLACE "kn_cuk_" "kn_emu_cuk_" text "${text}")
if(HEADER)
  string(REPLACE "<cuda_runtime_api.h>" "\"${EMU}/cuda_runtime_api.h\"" text "${text}")
  string(REGEX MATCHALL "kn_emu_cuk_[A-Za-z0-9_]+[ \t]*\\(" calls "${text}")
  set(names "")
  foreach(c ${calls})
    string(REGEX REPLACE "[ \t]*\\($" "" c "${c}")
    string(REPLACE "kn_emu_cuk_" "kn_cuk_" c "${c}")
    list(APPEND names ${c})
  endforeach()
  list(REMOVE_DUPLICATES names)
  set(have "")
  foreach(c ${names})
    string(APPEND have "#define KN_EMU_HAVE_${c} 1\n")
  endforeach()
  list(JOIN names " " all)
  set(out "// Generated from ${IN} by tests/cuda_emu/gen_emu.cmake: do not edit.\n${text}\n${have}#define KN_EMU_LAUNCHERS \"${all}\"\n")
else()
  string(REPLACE "<<<" " * kn_emu_cfg(" text "${text}")
  string(REPLACE ">>>" ")" text "${text}")
  string(REPLACE "\"kernels/cuda/cuda_kernels.h\"" "\"cuda_kernels_emu.h\"" text "${text}")
  set(out "// Generated from ${IN} by tests/cuda_emu/gen_emu.cmake: do not edit.\n#include \"cuda_runtime.h\"\n#line 1 \"${IN}\"\n${text}")
endif()
file(WRITE "${OUT}" "${out}")
