# tui_tests.cmake -- unit tests for gemctl-tui's pure logic and the admin
# client helpers (included from tests/unit/CMakeLists.txt).  Compiles the
# curses-free sources directly so it builds even without ncursesw; with
# ncursesw present the view-table dispatch (app.c, keys.c: curses types and
# KEY_* codes only, no curses calls) is tested too.
if(NOT TARGET ggadmin)
  include(${CMAKE_SOURCE_DIR}/common/admin_client.cmake)
endif()
set(TUI_TEST_SRC
  ${CMAKE_CURRENT_LIST_DIR}/test_tui_logic.c
  ${CMAKE_SOURCE_DIR}/tui/model.c
  ${CMAKE_SOURCE_DIR}/tui/text.c
  ${CMAKE_SOURCE_DIR}/tui/esc.c
  ${CMAKE_SOURCE_DIR}/tui/keyfmt.c)
if(NCURSESW_FOUND)
  list(APPEND TUI_TEST_SRC ${CMAKE_SOURCE_DIR}/tui/app.c ${CMAKE_SOURCE_DIR}/tui/keys.c)
endif()
add_executable(test_tui_logic ${TUI_TEST_SRC})
target_include_directories(test_tui_logic PRIVATE ${CMAKE_SOURCE_DIR}/tui ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_tui_logic PRIVATE ggadmin ggcommon PkgConfig::CJSON)
if(NCURSESW_FOUND)
  target_compile_definitions(test_tui_logic PRIVATE TUI_TEST_VIEWS=1)
  target_include_directories(test_tui_logic PRIVATE ${NCURSESW_INCLUDE_DIRS})
endif()
add_test(NAME tui_logic COMMAND test_tui_logic)
set_tests_properties(tui_logic PROPERTIES LABELS "unit;tui")
