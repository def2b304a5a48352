# Sanitizers as an INTERFACE target, wedge::sanitizers, selected by WEDGE_SANITIZE:
#   address,undefined  (preset dev)   AddressSanitizer + UndefinedBehaviorSanitizer, no recovery
#   thread             (preset tsan)  ThreadSanitizer; the runner uses std::threads instead of
#                                     oneTBB, which Debian does not build instrumented
#                                     (engine/runner.hpp, WEDGE_PLAIN_THREADS)
#   empty                             nothing
# The engine links it PUBLIC, so every library, test and tool built on it is instrumented alike.
add_library(wedge_sanitizers INTERFACE)
add_library(wedge::sanitizers ALIAS wedge_sanitizers)
if(WEDGE_SANITIZE)
  target_compile_options(wedge_sanitizers INTERFACE -fsanitize=${WEDGE_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(wedge_sanitizers INTERFACE -fsanitize=${WEDGE_SANITIZE})
  if(WEDGE_SANITIZE MATCHES "thread")
    target_compile_definitions(wedge_sanitizers INTERFACE WEDGE_PLAIN_THREADS=1)
  endif()
  if(WEDGE_SANITIZE MATCHES "undefined")
    target_compile_options(wedge_sanitizers INTERFACE -fno-sanitize-recover=undefined)
  endif()
endif()
