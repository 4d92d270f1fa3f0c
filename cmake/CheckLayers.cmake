cmake_minimum_required(VERSION 3.25)
# Fails when a layer includes a layer above it (DESIGN.md, "Layers").
# Usage: cmake -DSOURCE_DIR=<tree> -P CheckLayers.cmake
#
# A folder may include only itself and the folders listed for it here.
set(allowed_sim "sim")
set(allowed_model "model;sim")
set(allowed_properties "properties;model;sim")
set(allowed_reports "reports")
set(allowed_external "external;model;sim")
set(allowed_harness "harness;reports;external;properties;model;sim")
set(allowed_testing "testing;properties;model;sim")
set(allowed_cli "cli;harness;reports;external;testing;properties;model;sim")
set(allowed_live "live;model;sim")
set(layers sim model properties external testing reports harness cli live)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "CheckLayers.cmake needs -DSOURCE_DIR=<source tree>")
endif()

set(violations "")
foreach(layer IN LISTS layers)
  file(GLOB_RECURSE files "${SOURCE_DIR}/${layer}/*.h" "${SOURCE_DIR}/${layer}/*.cc")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    foreach(line IN LISTS lines)
      if(line MATCHES "#[ \t]*include[ \t]*[\"<](essim/)?([a-z_]+)/")
        set(target "${CMAKE_MATCH_2}")
        if(target IN_LIST layers AND NOT target IN_LIST allowed_${layer})
          file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
          string(APPEND violations "  ${rel}: '${line}' (${layer}/ may use: ${allowed_${layer}})\n")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()

# The public headers (include/essim) stand alone: they include one another
# and the standard library, never a layer's internal header.
file(GLOB public_headers "${SOURCE_DIR}/include/essim/*.h")
foreach(file IN LISTS public_headers)
  file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
  foreach(line IN LISTS lines)
    if(line MATCHES "\"" OR line MATCHES "<([a-z_]+)/" AND NOT line MATCHES "<essim/")
      file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
      string(APPEND violations "  ${rel}: '${line}' (a public header includes only <essim/...> and the standard library)\n")
    endif()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "A layer includes a layer above it (see DESIGN.md, 'Layers'):\n${violations}")
endif()
message(STATUS "layering: every include points down the layers")
