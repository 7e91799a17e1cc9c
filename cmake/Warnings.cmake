# One place for warning flags: every project target links garcon_warnings.
add_library(garcon_warnings INTERFACE)
target_compile_options(garcon_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  -Wno-missing-field-initializers
  # GCC 12 at -O2/-O3 reports std::string concatenation in its own headers
  # as overlapping memcpy (GCC bug 105329): a false positive.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
# Errors only in Garcon's own build: a parent project keeps its own policy.
option(GARCON_WERROR "Treat warnings as errors" ${GARCON_TOP_LEVEL})
if(GARCON_WERROR)
  target_compile_options(garcon_warnings INTERFACE -Werror)
endif()
# -Wnull-dereference is left out: at -O2 and above it reports paths inlined
# from Boost.Asio's headers that cannot happen.
