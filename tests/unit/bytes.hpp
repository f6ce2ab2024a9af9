// Bytes written as numbers in a test: bytes({0x81, 0x05}).
#pragma once

#include <initializer_list>
#include <string>

inline std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s += static_cast<char>(b);
    return s;
}
