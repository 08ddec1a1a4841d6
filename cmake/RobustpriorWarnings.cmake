# rp_project_settings(target): warnings, relative __FILE__ paths, CPU tuning. Applied to every
# target the project builds so that "warnings on and clean" means one list.

set(RP_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor
                    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference
                    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)

function(rp_project_settings target)
  set(_flags ${RP_CXX_WARNINGS})
  if(ROBUSTPRIOR_WERROR)
    list(APPEND _flags -Werror)
  endif()
  # Error messages carry file:line; make the file relative to the source tree.
  list(APPEND _flags "-fmacro-prefix-map=${CMAKE_SOURCE_DIR}/=")
  if(ROBUSTPRIOR_CPU_ARCH)
    list(APPEND _flags -march=${ROBUSTPRIOR_CPU_ARCH})
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${_flags}>)
  if(RP_CUDA_ENABLED)
    set(_cuda_host_flags -Wall -Wextra "-fmacro-prefix-map=${CMAKE_SOURCE_DIR}/=")
    list(JOIN _cuda_host_flags "," _cuda_host_joined)
    set(_cuda_flags "-Xcompiler=${_cuda_host_joined}")
    if(ROBUSTPRIOR_WERROR)
      list(APPEND _cuda_flags -Werror=all-warnings)
    endif()
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${_cuda_flags}>)
  endif()
endfunction()
