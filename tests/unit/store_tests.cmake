# store_tests.cmake -- the store conformance suite (included from
# tests/unit/CMakeLists.txt).  `store_sqlite` runs it against SQLite in a temp
# dir; tests/run_store_tests.sh also runs it against a throwaway PostgreSQL.
add_executable(test_store ${CMAKE_CURRENT_LIST_DIR}/test_store.c)
target_link_libraries(test_store PRIVATE gemstore)
add_test(NAME store_sqlite COMMAND test_store)
set_tests_properties(store_sqlite PROPERTIES ENVIRONMENT "GEMGATE_TEST_PG_URL=" TIMEOUT 300)
