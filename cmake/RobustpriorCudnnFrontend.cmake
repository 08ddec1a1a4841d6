# NVIDIA's header-only cudnn-frontend (the cuDNN graph API in C++), which the convolutions in
# kernels/cudnn/ are built on. tools/bootstrap.sh fetches the pinned release into .deps/ (git
# ignores it); -DCUDNN_FRONTEND_INCLUDE_DIR=<dir> points at another copy. Defines the interface
# target rp_cudnn_frontend, for g++-compiled files under kernels/cudnn/ only: nvcc takes minutes
# on these headers and then fails -Werror.

set(RP_CUDNN_FRONTEND_VERSION 1.32.0)  # keep in step with tools/bootstrap.sh
set(CUDNN_FRONTEND_INCLUDE_DIR "${CMAKE_SOURCE_DIR}/.deps/cudnn-frontend-${RP_CUDNN_FRONTEND_VERSION}/include"
    CACHE PATH "cudnn-frontend's include/ folder (holding cudnn_frontend.h)")
if(NOT EXISTS "${CUDNN_FRONTEND_INCLUDE_DIR}/cudnn_frontend.h")
  message(FATAL_ERROR "The CUDA backend needs NVIDIA's cudnn-frontend ${RP_CUDNN_FRONTEND_VERSION} "
                      "headers, not found in ${CUDNN_FRONTEND_INCLUDE_DIR}. Run ./tools/bootstrap.sh "
                      "(it fetches them into .deps/), or configure with "
                      "-DCUDNN_FRONTEND_INCLUDE_DIR=<dir holding cudnn_frontend.h>, or build without "
                      "CUDA (-DROBUSTPRIOR_CUDA=OFF).")
endif()
file(STRINGS "${CUDNN_FRONTEND_INCLUDE_DIR}/cudnn_frontend_version.h" _rp_fe_v
     REGEX "define CUDNN_FRONTEND_(MAJOR|MINOR|PATCH)_VERSION ")
string(REGEX REPLACE ".*MAJOR_VERSION ([0-9]+).*" "\\1" _rp_fe_maj "${_rp_fe_v}")
string(REGEX REPLACE ".*MINOR_VERSION ([0-9]+).*" "\\1" _rp_fe_min "${_rp_fe_v}")
string(REGEX REPLACE ".*PATCH_VERSION ([0-9]+).*" "\\1" _rp_fe_pat "${_rp_fe_v}")
set(RP_CUDNN_FRONTEND_FOUND_VERSION "${_rp_fe_maj}.${_rp_fe_min}.${_rp_fe_pat}")
if(NOT RP_CUDNN_FRONTEND_FOUND_VERSION VERSION_EQUAL RP_CUDNN_FRONTEND_VERSION)
  message(WARNING "cudnn-frontend ${RP_CUDNN_FRONTEND_FOUND_VERSION} found in "
                  "${CUDNN_FRONTEND_INCLUDE_DIR}; robustprior is tested with "
                  "${RP_CUDNN_FRONTEND_VERSION}")
endif()

if(NOT TARGET rp_cudnn_frontend)
  add_library(rp_cudnn_frontend INTERFACE)
  # SYSTEM: the headers are not ours and would bury our warnings under hundreds of theirs.
  target_include_directories(rp_cudnn_frontend SYSTEM INTERFACE "${CUDNN_FRONTEND_INCLUDE_DIR}")
  # The frontend's bundled nlohmann::json (another patch release than the one the engine uses,
  # in the same ABI namespace, plus a float serializer specialization) would break the
  # one-definition rule; we never serialize graphs, so leave it out.
  target_compile_definitions(rp_cudnn_frontend INTERFACE CUDNN_FRONTEND_SKIP_JSON_LIB)
  # Its plans.h includes an engine compiled at run time with NVRTC; without the frontend's
  # dynamic-loading mode (which would also dlopen a second cudart beside our static one), the
  # NVRTC calls link directly.
  target_link_libraries(rp_cudnn_frontend INTERFACE rp_cudnn CUDA::nvrtc CUDA::cudart_static)
endif()
