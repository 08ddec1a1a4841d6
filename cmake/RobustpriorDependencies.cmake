# Every dependency comes from a Debian package. A missing one stops configuration with the
# package to install, so nobody has to guess from a CMake backtrace.

set(RP_APT_HINT "run ./tools/bootstrap.sh as root, or: sudo apt-get install -y")

macro(rp_require_config name package)
  find_package(${name} CONFIG QUIET ${ARGN})
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "robustprior needs ${name}, from the Debian package '${package}' "
                        "(${RP_APT_HINT} ${package})")
  endif()
endmacro()

find_package(PkgConfig QUIET)

rp_require_config(Eigen3 libeigen3-dev)
rp_require_config(CLI11 libcli11-dev)
rp_require_config(nlohmann_json nlohmann-json3-dev)

# stb ships only a pkg-config file on Debian.
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "robustprior needs pkg-config, from the Debian package 'pkg-config' "
                      "(${RP_APT_HINT} pkg-config)")
endif()
pkg_check_modules(STB QUIET IMPORTED_TARGET stb)
if(NOT STB_FOUND)
  message(FATAL_ERROR "robustprior needs stb, from the Debian package 'libstb-dev' "
                      "(${RP_APT_HINT} libstb-dev)")
endif()

# Image reading: PNG through libpng, JPEG through libjpeg-turbo (both ship pkg-config files).
pkg_check_modules(RP_PNG QUIET IMPORTED_TARGET libpng)
if(NOT RP_PNG_FOUND)
  message(FATAL_ERROR "robustprior needs libpng, from the Debian package 'libpng-dev' "
                      "(${RP_APT_HINT} libpng-dev)")
endif()
pkg_check_modules(RP_JPEG QUIET IMPORTED_TARGET libjpeg)
if(NOT RP_JPEG_FOUND)
  message(FATAL_ERROR "robustprior needs libjpeg-turbo, from the Debian package "
                      "'libjpeg62-turbo-dev' (${RP_APT_HINT} libjpeg62-turbo-dev)")
endif()

# Figures: cairo (PDF and PNG) with FreeType and fontconfig for the typeface, all from
# libcairo2-dev and its dependencies.
pkg_check_modules(RP_CAIRO QUIET IMPORTED_TARGET cairo cairo-ft cairo-pdf fontconfig freetype2)
if(NOT RP_CAIRO_FOUND)
  message(FATAL_ERROR "robustprior needs cairo, from the Debian package 'libcairo2-dev' "
                      "(${RP_APT_HINT} libcairo2-dev)")
endif()

find_package(OpenMP QUIET COMPONENTS CXX)
if(NOT OpenMP_CXX_FOUND)
  message(FATAL_ERROR "robustprior needs OpenMP for the multithreaded CPU reference "
                      "(GCC's libgomp: ${RP_APT_HINT} g++)")
endif()

if(ROBUSTPRIOR_BUILD_TESTS)
  # The figure tests parse SVG files as XML.
  pkg_check_modules(RP_EXPAT QUIET IMPORTED_TARGET expat)
  if(NOT RP_EXPAT_FOUND)
    message(FATAL_ERROR "the tests need expat, from the Debian package 'libexpat1-dev' "
                        "(${RP_APT_HINT} libexpat1-dev)")
  endif()
  rp_require_config(GTest libgtest-dev)
endif()
if(ROBUSTPRIOR_BUILD_BENCH)
  rp_require_config(benchmark libbenchmark-dev)
endif()
