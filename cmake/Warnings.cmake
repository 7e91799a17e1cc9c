# One place for warning flags: every project target links garcon_warnings.
add_library(garcon_warnings INTERFACE)
target_compile_options(garcon_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  -Wno-missing-field-initializers)
option(GARCON_WERROR "Treat warnings as errors" ON)
if(GARCON_WERROR)
  target_compile_options(garcon_warnings INTERFACE -Werror)
endif()
