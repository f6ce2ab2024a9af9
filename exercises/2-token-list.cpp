// Exercise 2 (lesson 2): is "Upgrade" in "keep-alive, Upgrade"?
//
// RFC 6455 §4.2.1 asks for a Connection header that *includes* the token "Upgrade": the value
// is a comma-separated list (Firefox sends "keep-alive, Upgrade"), the items may have spaces or
// tabs around them, and tokens compare without regard to case ("upgrade" is "Upgrade").
//
// Write list_contains(list, token): true when one item of the list, trimmed, equals the token
// in any case. An empty item ("a,,b") is just empty; "Upgrade2" is not "Upgrade".
//
//   list_contains("keep-alive, Upgrade", "Upgrade") == true
//   list_contains("keep-alive,upgrade", "Upgrade")  == true
//   list_contains("Upgrade2", "Upgrade")            == false
//
// You may use http::iequals(a, b) and http::trim(s) from src/proto/http.hpp.
// Check it: make exercises. Run lesson 2 on it: build/bin/student/lesson2-handshake --demo
// The library's own answer is in src/proto/token_list.cpp: look only when you are done.
#include "proto/http.hpp"

namespace ws::http {

bool list_contains(std::string_view list, std::string_view token) {
    (void)list;
    (void)token;
    return false;  // TODO: split at commas, trim, compare
}

}  // namespace ws::http
