#pragma once
// The parser's test vectors: every rule of the parser layer, valid and invalid, each with the
// outcome of feeding it whole. vectors_test.cpp checks that outcome and that every split of the
// input gives the same; the fuzz seed corpus (fuzz/corpus/http_parser) holds them as files.

#include <opensocket/http/errors.hpp>

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace http_test {

struct vector_case {
    std::string name;   ///< unique; a C identifier (test name, corpus file name)
    std::string input;  ///< bytes as sent by the client
    std::optional<opensocket::http::parse_error> error;  ///< nullopt: no error
    std::size_t requests;       ///< requests completed (head and body) before the end or error
    bool small_limits = false;  ///< parse with small_limits() instead of the defaults
};

/// gtest prints a vector by its name.
inline void PrintTo(const vector_case& v, std::ostream* os) { *os << v.name; }

/// Every vector, in a stable order.
const std::vector<vector_case>& vectors();

}  // namespace http_test
