# Compiler settings shared by every target of ours: warnings as errors, sanitizers.

function(crosscut_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

if(CROSSCUT_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(CROSSCUT_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT CROSSCUT_SANITIZE STREQUAL "off")
  message(FATAL_ERROR "CROSSCUT_SANITIZE must be address, thread or off (got '${CROSSCUT_SANITIZE}')")
endif()
