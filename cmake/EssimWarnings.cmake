# essim_target_defaults(TARGET): warnings, and the project include root.
function(essim_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast)
  if(ESSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
