# tui_tests.cmake -- unit tests for gemctl-tui's pure logic and the admin
# client helpers (included from tests/unit/CMakeLists.txt).  Compiles the
# curses-free sources directly so it builds even without ncursesw.
if(NOT TARGET ggadmin)
  include(${CMAKE_SOURCE_DIR}/common/admin_client.cmake)
endif()
add_executable(test_tui_logic
  ${CMAKE_CURRENT_LIST_DIR}/test_tui_logic.c
  ${CMAKE_SOURCE_DIR}/tui/model.c
  ${CMAKE_SOURCE_DIR}/tui/text.c)
target_include_directories(test_tui_logic PRIVATE ${CMAKE_SOURCE_DIR}/tui ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_tui_logic PRIVATE ggadmin ggcommon PkgConfig::CJSON)
add_test(NAME tui_logic COMMAND test_tui_logic)
