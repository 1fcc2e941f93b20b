// The fuzz seed corpus (fuzz/corpus/http_parser) holds every test vector: a file named after
// the vector holding one split-selector byte (0x80: split in the middle) and the input.
// Regenerate it with OPENSOCKET_UPDATE_CORPUS=1 ./http_parser_tests --gtest_filter='Corpus*'.

#include "vectors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string seed_of(const http_test::vector_case& v) { return std::string(1, '\x80') + v.input; }

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Corpus, HoldsEveryVector) {
    const fs::path dir = OPENSOCKET_HTTP_CORPUS_DIR;
    const bool update = std::getenv("OPENSOCKET_UPDATE_CORPUS") != nullptr;
    for (const auto& v : http_test::vectors()) {
        const fs::path file = dir / v.name;
        if (update) {
            std::ofstream(file, std::ios::binary | std::ios::trunc) << seed_of(v);
        }
        ASSERT_TRUE(fs::exists(file)) << file << " is missing: regenerate the corpus";
        EXPECT_EQ(read_file(file), seed_of(v)) << file << " is stale: regenerate the corpus";
    }
}

}  // namespace
