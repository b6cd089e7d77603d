# admin_client.cmake -- static library `ggadmin`: the admin REST API client
# (libcurl + cJSON + pthreads) shared by gemctl-tui and the daemon's tests.
# Included by common/CMakeLists.txt; expects the PkgConfig::CURL,
# PkgConfig::CJSON and Threads::Threads targets from the top level.
add_library(ggadmin STATIC
  ${CMAKE_CURRENT_LIST_DIR}/gg_admin_client.c
  ${CMAKE_CURRENT_LIST_DIR}/gg_admin_routes.c
  ${CMAKE_CURRENT_LIST_DIR}/gg_admin_sse.c
  ${CMAKE_CURRENT_LIST_DIR}/gg_admin_async.c)
target_include_directories(ggadmin PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ggadmin PUBLIC ggcommon PkgConfig::CURL PkgConfig::CJSON Threads::Threads)
