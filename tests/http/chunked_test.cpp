// chunked_decoder on its own: data handed out as views into the input, one run per call, the
// exact end of the body, errors that stick, and the same bytes for any split of the input.

#include <opensocket/http/chunked.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

namespace http = opensocket::http;
using http::parse_error;

struct decoded {
    std::string data;
    std::size_t consumed = 0;
    bool done = false;
    std::error_code error;
};

// Feeds `input` in pieces of `piece` bytes (0: whole) until done, an error, or the end.
decoded decode(std::string_view input, std::size_t piece = 0, http::parser_limits limits = {}) {
    http::chunked_decoder d(limits);
    decoded out;
    std::string_view rest = input;
    std::string_view window;
    while (!out.done) {
        if (window.empty()) {
            if (rest.empty()) break;
            const std::size_t n = piece == 0 ? rest.size() : std::min(piece, rest.size());
            window = rest.substr(0, n);
            rest.remove_prefix(n);
        }
        auto step = d.next(window);
        if (!step) {
            out.error = step.error();
            break;
        }
        out.data += step->data;
        out.consumed += step->consumed;
        out.done = step->done;
        window.remove_prefix(step->consumed);
    }
    return out;
}

TEST(Chunked, DataIsAViewIntoTheInput) {
    const std::string input = "5\r\nhello\r\n0\r\n\r\n";
    http::chunked_decoder d;
    auto step = d.next(input);
    ASSERT_TRUE(step);
    EXPECT_EQ(step->data, "hello");
    EXPECT_EQ(step->data.data(), input.data() + 3);
    EXPECT_EQ(step->consumed, 8u);
    EXPECT_FALSE(step->done);
}

TEST(Chunked, HandsOutOneRunOfDataPerCall) {
    const std::string input = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    http::chunked_decoder d;
    std::string_view rest = input;
    auto s1 = d.next(rest);
    ASSERT_TRUE(s1);
    EXPECT_EQ(s1->data, "abc");
    rest.remove_prefix(s1->consumed);
    auto s2 = d.next(rest);
    ASSERT_TRUE(s2);
    EXPECT_EQ(s2->data, "de");
    rest.remove_prefix(s2->consumed);
    auto s3 = d.next(rest);
    ASSERT_TRUE(s3);
    EXPECT_TRUE(s3->data.empty());
    EXPECT_TRUE(s3->done);
    EXPECT_EQ(s3->consumed, rest.size());
    EXPECT_TRUE(d.done());
    EXPECT_EQ(d.body_size(), 5u);
}

TEST(Chunked, StopsAtTheEndOfTheBody) {
    const std::string body = "1\r\nx\r\n0\r\nT: v\r\n\r\n";
    const decoded out = decode(body + "GET / HTTP/1.1\r\n");
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.consumed, body.size());
    EXPECT_EQ(out.data, "x");
}

TEST(Chunked, InputEndingInsideFramingIsConsumed) {
    http::chunked_decoder d;
    auto step = d.next("5\r");
    ASSERT_TRUE(step);
    EXPECT_EQ(step->consumed, 2u);
    EXPECT_TRUE(step->data.empty());
    EXPECT_FALSE(step->done);
    auto more = d.next("\nab");
    ASSERT_TRUE(more);
    EXPECT_EQ(more->data, "ab");
    EXPECT_EQ(more->consumed, 3u);
}

TEST(Chunked, EmptyInputConsumesNothing) {
    http::chunked_decoder d;
    auto step = d.next("");
    ASSERT_TRUE(step);
    EXPECT_EQ(step->consumed, 0u);
    EXPECT_FALSE(step->done);
}

TEST(Chunked, AnySplitGivesTheSameBytes) {
    const std::string input =
        "4;ext=1;q=\"a\\\"b\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
        "0\r\nExpires: never\r\nX: \xff\r\n\r\n";
    const decoded whole = decode(input);
    ASSERT_TRUE(whole.done);
    EXPECT_EQ(whole.data, "Wikipedia in\r\n\r\nchunks.");
    for (std::size_t piece = 1; piece <= input.size(); ++piece) {
        const decoded split = decode(input, piece);
        EXPECT_EQ(split.data, whole.data) << "pieces of " << piece;
        EXPECT_TRUE(split.done) << "pieces of " << piece;
        EXPECT_EQ(split.consumed, input.size());
    }
}

TEST(Chunked, SixteenHexDigitsFitAndSeventeenOverflow) {
    http::parser_limits unlimited;
    unlimited.max_body_size = std::numeric_limits<std::uint64_t>::max();
    http::chunked_decoder d(unlimited);
    auto fits = d.next("ffffffffffffffff\r\n");
    ASSERT_TRUE(fits) << fits.error().message();
    EXPECT_EQ(d.body_size(), std::numeric_limits<std::uint64_t>::max());

    const decoded over = decode("1ffffffffffffffff\r\n", 0, unlimited);
    EXPECT_EQ(over.error, parse_error::chunk_size_overflow);
    EXPECT_EQ(http::status_code(over.error), 400);
}

TEST(Chunked, ChunkSizesAboveTheBodyLimitAre413BeforeAnyData) {
    http::parser_limits limits;
    limits.max_body_size = 10;
    EXPECT_EQ(decode("b\r\n", 0, limits).error, parse_error::body_too_large);
    EXPECT_EQ(decode("5\r\nhello\r\n6\r\n", 0, limits).error, parse_error::body_too_large);
    EXPECT_TRUE(decode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 0, limits).done);
}

TEST(Chunked, ErrorsAreSticky) {
    http::chunked_decoder d;
    auto bad = d.next("z");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), parse_error::invalid_chunk_size);
    auto again = d.next("0\r\n\r\n");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), parse_error::invalid_chunk_size);
}

TEST(Chunked, ResetStartsANewBody) {
    http::chunked_decoder d;
    ASSERT_FALSE(d.next("z"));
    d.reset();
    auto step = d.next("0\r\n\r\n");
    ASSERT_TRUE(step);
    EXPECT_TRUE(step->done);
    d.reset();
    EXPECT_FALSE(d.done());
    EXPECT_EQ(d.body_size(), 0u);
}

TEST(Chunked, DoneDecoderConsumesNothingMore) {
    http::chunked_decoder d;
    ASSERT_TRUE(d.next("0\r\n\r\n"));
    auto step = d.next("more");
    ASSERT_TRUE(step);
    EXPECT_EQ(step->consumed, 0u);
    EXPECT_TRUE(step->done);
}

TEST(Chunked, ExtensionsAcceptTokensQuotedStringsAndWhitespace) {
    for (const char* ext : {";a", ";a=b", "; a = b", ";a=\"\"", ";a=\"x\\\\y\"", ";a;b;c=d", " ;a",
                            "\t;a=\"sp ace\"\t;b"}) {
        const decoded out = decode(std::string("1") + ext + "\r\nx\r\n0\r\n\r\n");
        EXPECT_TRUE(out.done) << ext << ": " << out.error.message();
    }
}

TEST(Chunked, MalformedExtensionsAre400) {
    for (const char* ext : {";", ";=", "; ", ";a=", ";a=\"", ";a b", ";a=b c", ";a=\"x\"y",
                            ";a=\"\x01\"", ";a=\"\\\x01\"", ";\xff", ";a=\xff"}) {
        const decoded out = decode(std::string("1") + ext + "\r\nx\r\n0\r\n\r\n");
        EXPECT_EQ(out.error, parse_error::invalid_chunk_extension) << ext;
    }
}

TEST(Chunked, TrailersAreValidatedLikeFields) {
    EXPECT_TRUE(decode("0\r\nA: 1\r\nB:\r\nC: x\ty\r\n\r\n").done);
    EXPECT_EQ(decode("0\r\n A: 1\r\n\r\n").error, parse_error::obs_fold);
    EXPECT_EQ(decode("0\r\nA 1\r\n\r\n").error, parse_error::invalid_header_name);
    EXPECT_EQ(decode("0\r\nA\r\n\r\n").error, parse_error::missing_colon);
    EXPECT_EQ(decode("0\r\nA: \x7f\r\n\r\n").error, parse_error::invalid_header_value);
    EXPECT_EQ(decode("0\r\nA: 1\n\r\n").error, parse_error::invalid_line_ending);
}

TEST(Chunked, TrailerLimitsAre431) {
    http::parser_limits limits;
    limits.max_header_count = 2;
    limits.max_header_bytes = 32;
    EXPECT_TRUE(decode("0\r\nA: 1\r\nB: 2\r\n\r\n", 0, limits).done);
    const decoded many = decode("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0, limits);
    EXPECT_EQ(many.error, parse_error::trailer_too_large);
    EXPECT_EQ(http::status_code(many.error), 431);
    const decoded big = decode("0\r\nA: " + std::string(40, 'x') + "\r\n\r\n", 0, limits);
    EXPECT_EQ(big.error, parse_error::trailer_too_large);
}

TEST(Chunked, ExtensionBytesAreLimitedOverTheWholeBody) {
    http::parser_limits limits;
    limits.max_chunk_extensions = 8;
    EXPECT_TRUE(decode("1;aaa\r\nx\r\n1;bbb\r\ny\r\n0\r\n\r\n", 0, limits).done);  // 4 + 4
    EXPECT_EQ(decode("1;aaa\r\nx\r\n1;bbbb\r\ny\r\n0\r\n\r\n", 0, limits).error,
              parse_error::chunk_extension_too_long);
}

}  // namespace
