// Every vector gives its expected outcome when fed whole, and exactly the same outcome (requests,
// heads, bodies, error) when split in two at every byte, fed one byte at a time, or cut at random
// places (empty pieces included): the parser's results do not depend on how the bytes arrive.

#include "vectors.hpp"
#include "driver.hpp"

#include <opensocket/http/errors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace http_test {
namespace {

namespace http = opensocket::http;

class ParserVector : public ::testing::TestWithParam<vector_case> {
protected:
    http::parser_limits limits() const {
        return GetParam().small_limits ? small_limits() : http::parser_limits{};
    }
};

TEST_P(ParserVector, WholeInputGivesExpectedOutcome) {
    const vector_case& v = GetParam();
    const outcome out = drive_whole(v.input, limits());
    EXPECT_TRUE(out.violations.empty()) << ::testing::PrintToString(out.violations);
    EXPECT_EQ(out.requests.size(), v.requests) << out.transcript();
    if (v.error) {
        EXPECT_EQ(out.error, make_error_code(*v.error)) << out.transcript();
    } else {
        EXPECT_FALSE(out.error) << out.transcript();
    }
}

TEST_P(ParserVector, EveryTwoPartSplitMatchesWhole) {
    const vector_case& v = GetParam();
    const std::string whole = drive_whole(v.input, limits()).transcript();
    for (std::size_t cut = 0; cut <= v.input.size(); ++cut) {
        const std::size_t cuts[] = {cut};
        const outcome out = drive(v.input, cuts, limits());
        ASSERT_EQ(out.transcript(), whole) << "split at " << cut;
        ASSERT_TRUE(out.violations.empty()) << "split at " << cut;
    }
}

TEST_P(ParserVector, ByteByByteMatchesWhole) {
    const vector_case& v = GetParam();
    const outcome out = drive_bytewise(v.input, limits());
    EXPECT_EQ(out.transcript(), drive_whole(v.input, limits()).transcript());
    EXPECT_TRUE(out.violations.empty());
}

TEST_P(ParserVector, RandomMultiPartSplitsMatchWhole) {
    const vector_case& v = GetParam();
    const std::string whole = drive_whole(v.input, limits()).transcript();
    std::mt19937 rng(12345);
    for (int round = 0; round < 50; ++round) {
        std::uniform_int_distribution<std::size_t> pick(0, v.input.size());  // empty pieces too
        std::vector<std::size_t> cuts(1 + round % 6);
        for (auto& c : cuts) c = pick(rng);
        std::sort(cuts.begin(), cuts.end());
        ASSERT_EQ(drive(v.input, cuts, limits()).transcript(), whole) << "round " << round;
    }
}

INSTANTIATE_TEST_SUITE_P(Vectors, ParserVector, ::testing::ValuesIn(vectors()),
                         [](const ::testing::TestParamInfo<vector_case>& param) {
                             return param.param.name;
                         });

TEST(ParserVectors, NamesAreUnique) {
    std::vector<std::string> names;
    for (const auto& v : vectors()) names.push_back(v.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace http_test
