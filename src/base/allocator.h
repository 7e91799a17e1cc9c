// Which memory allocator the running program uses. The libraries link none:
// a program that links Garcon keeps its own. The programs Garcon ships (the
// `garcon` command) and the benchmarks that measure them link mimalloc when
// the build found it (GARCON_MIMALLOC, garcon_use_mimalloc in CMake).
#pragma once

#include <string>

namespace garcon {

// "mimalloc 2.0.9" when mimalloc serves malloc in this process (linked or
// preloaded), else "the C library's malloc".
std::string AllocatorName();

}  // namespace garcon
