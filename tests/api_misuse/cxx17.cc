// Garcon's headers compiled as C++17 (GARCON_MISUSE adds -std=c++17).
#include <garcon/garcon.h>

int Answer() { return 42; }
