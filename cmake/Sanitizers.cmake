# WEDGE_SANITIZE=address,undefined (preset dev) or thread (preset tsan).
if(WEDGE_SANITIZE)
  add_compile_options(-fsanitize=${WEDGE_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${WEDGE_SANITIZE})
  if(WEDGE_SANITIZE MATCHES "thread")
    # Debian's oneTBB is not instrumented: run the runner on std::threads (engine/runner.hpp).
    add_compile_definitions(WEDGE_PLAIN_THREADS=1)
  endif()
  if(WEDGE_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
