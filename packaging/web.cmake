# packaging/web.cmake -- build the web console into the build tree.
# Included from the top-level CMakeLists.txt.  With GEM_BUILD_WEB=ON (the
# default) and node >= 20 + npm on PATH, the `web` target (part of ALL)
# copies web/ to <build>/web/src, runs `npm ci` there (only when
# package-lock.json changed) and `vite build` into <build>/web/dist, which
# gemgated finds next to its binary (<build>/daemon/../web/dist).  The source
# tree is never written.  When npm is missing or fails, the build goes on
# without the console and says what to do; gemgated says it again at start-up.

set(GG_WEB_SRC ${CMAKE_SOURCE_DIR}/web)
set(GG_WEB_BUILD_DIST ${CMAKE_BINARY_DIR}/web/dist)
# compile-time fallbacks for the daemon (after WEB_DIR and the install layout)
add_compile_definitions(GEMGATE_BUILD_WEB_DIR="${GG_WEB_BUILD_DIST}"
                        GEMGATE_SOURCE_WEB_DIR="${GG_WEB_SRC}/dist")

if(GEM_BUILD_WEB AND EXISTS ${GG_WEB_SRC}/package.json)
  find_program(GG_NPM npm)
  find_program(GG_NODE node)
  set(GG_NODE_OK OFF)
  if(GG_NPM AND GG_NODE)
    execute_process(COMMAND ${GG_NODE} --version OUTPUT_VARIABLE _gg_nv
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _gg_nr)
    string(REGEX MATCH "^v([0-9]+)" _gg_m "${_gg_nv}")
    if(_gg_nr EQUAL 0 AND CMAKE_MATCH_1 GREATER_EQUAL 20)
      set(GG_NODE_OK ON)
    endif()
  endif()
  if(GG_NODE_OK)
    file(GLOB_RECURSE GG_WEB_FILES CONFIGURE_DEPENDS ${GG_WEB_SRC}/src/*)
    foreach(f index.html package.json package-lock.json vite.config.js tailwind.config.js postcss.config.js)
      if(EXISTS ${GG_WEB_SRC}/${f})
        list(APPEND GG_WEB_FILES ${GG_WEB_SRC}/${f})
      endif()
    endforeach()
    add_custom_command(
      OUTPUT ${CMAKE_BINARY_DIR}/web/build.stamp
      COMMAND ${CMAKE_COMMAND} -DSRC=${GG_WEB_SRC} -DWORK=${CMAKE_BINARY_DIR}/web/src
              -DOUT=${GG_WEB_BUILD_DIST} -DNPM=${GG_NPM} -DSTAMP=${CMAKE_BINARY_DIR}/web/build.stamp
              -P ${CMAKE_CURRENT_LIST_DIR}/build_web.cmake
      DEPENDS ${GG_WEB_FILES} ${CMAKE_CURRENT_LIST_DIR}/build_web.cmake
      COMMENT "Building the web console (npm ci + vite build into ${GG_WEB_BUILD_DIST})"
      VERBATIM)
    add_custom_target(web ALL DEPENDS ${CMAKE_BINARY_DIR}/web/build.stamp)
  else()
    message(STATUS "gemgate: node >= 20 and npm not found -- the web console is not built; "
                   "install them and re-run cmake, or build web/ yourself (make web) or set WEB_DIR")
  endif()
endif()
