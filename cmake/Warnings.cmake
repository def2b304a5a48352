# Project warnings, as an INTERFACE target linked PRIVATE by every wedge target.
add_library(wedge_warnings INTERFACE)
add_library(wedge::warnings ALIAS wedge_warnings)
target_compile_options(wedge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough)
