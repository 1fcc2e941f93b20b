// The parser's and the response writer's word-at-a-time helpers (http/src/chars.hpp,
// out_buffer.hpp) against byte-by-byte references: every length, every position, every byte a
// field line can hold.

#include "chars.hpp"
#include "out_buffer.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace d = opensocket::http::detail;

// The bytes a field line may hold (RFC 9110 section 5.5): HTAB, SP, VCHAR, obs-text.
std::vector<char> field_line_bytes() {
    std::vector<char> out{'\t'};
    for (int c = 0x20; c <= 0xff; ++c) {
        if (c != 0x7f) out.push_back(static_cast<char>(c));
    }
    return out;
}

bool reference_iequals(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (d::to_lower(s[i]) != lower[i]) return false;
    }
    return true;
}

const std::vector<std::string_view> words = {"a",
                                             "te",
                                             "host",
                                             "close",
                                             "expect",
                                             "chunked",
                                             "upgrade",
                                             "keep-alive",
                                             "connection",
                                             "100-continue",
                                             "content-length",
                                             "transfer-encoding",
                                             "a-twenty-five-byte-word-x",
                                             "a-word-of-thirty-three-bytes-long"};

TEST(FieldIequals, MatchesTheByteReferenceForEveryByteAtEveryPosition) {
    const auto bytes = field_line_bytes();
    for (std::string_view w : words) {
        std::string s(w);
        EXPECT_TRUE(d::field_iequals(s, w)) << w;
        for (std::size_t i = 0; i < s.size(); ++i) {
            for (char c : bytes) {
                s[i] = c;
                ASSERT_EQ(d::field_iequals(s, w), reference_iequals(s, w))
                    << w << " with byte " << static_cast<int>(static_cast<unsigned char>(c))
                    << " at " << i;
            }
            s[i] = w[i];
        }
    }
}

TEST(FieldIequals, IgnoresCaseAndLengthDecidesFirst) {
    EXPECT_TRUE(d::field_iequals("HOST", "host"));
    EXPECT_TRUE(d::field_iequals("Content-LENGTH", "content-length"));
    EXPECT_TRUE(d::field_iequals("Transfer-Encoding", "transfer-encoding"));
    EXPECT_TRUE(d::field_iequals("", ""));
    EXPECT_FALSE(d::field_iequals("hos", "host"));
    EXPECT_FALSE(d::field_iequals("hostt", "host"));
    EXPECT_FALSE(d::field_iequals("content_length", "content-length"));
    EXPECT_FALSE(d::field_iequals("Keep-Alive\t", "keep-alive "));
}

TEST(SameBytes, EveryLengthEqualAndDifferingAtEachPosition) {
    std::string a;
    for (std::size_t n = 0; n <= 48; ++n) {
        a.assign(n, 'x');
        for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
        std::string b = a;
        EXPECT_TRUE(d::same_bytes(a, b)) << n;
        for (std::size_t i = 0; i < n; ++i) {
            b[i] = static_cast<char>(b[i] ^ 0x01);
            EXPECT_FALSE(d::same_bytes(a, b)) << "length " << n << ", byte " << i;
            b[i] = a[i];
        }
        if (n > 0) {
            EXPECT_FALSE(d::same_bytes(a, std::string_view(b).substr(1)));
        }
    }
}

TEST(WordLoads, WordReadsBytesInMemoryOrder) {
    EXPECT_EQ(d::load<std::uint32_t>("GET /"), d::word<std::uint32_t>("GET "));
    EXPECT_EQ(d::load<std::uint64_t>("HTTP/1.1\r\n"), d::word<std::uint64_t>("HTTP/1.1"));
    EXPECT_NE(d::load<std::uint64_t>("HTTP/1.0\r\n"), d::word<std::uint64_t>("HTTP/1.1"));
    EXPECT_EQ(d::load<std::uint16_t>("\r\n"), d::word<std::uint16_t>("\r\n"));
    EXPECT_NE(d::load<std::uint16_t>("\n\r"), d::word<std::uint16_t>("\r\n"));
}

TEST(ScanToken, StopsAtTheFirstNonTokenByteOfEveryLine) {
    const auto bytes = field_line_bytes();
    std::string line(20, 'k');
    for (std::size_t at = 0; at < line.size(); ++at) {
        for (char c : bytes) {
            line[at] = c;
            const std::size_t expected = d::scan(line.data(), 0, line.size(), d::cls_token);
            ASSERT_EQ(d::scan_token(line.data(), 0, line.size()), expected);
            ASSERT_EQ(d::scan_token(line.data(), 1, at), d::scan(line.data(), 1, at, d::cls_token));
        }
        line[at] = 'k';
    }
}

TEST(OutBuffer, AppendsGrowAndKeepEveryByte) {
    d::out_buffer out;
    std::string expected;
    EXPECT_TRUE(out.empty());
    out.append("");
    EXPECT_TRUE(out.empty());
    for (int i = 0; i < 500; ++i) {
        const std::string piece(static_cast<std::size_t>(i % 37 + 1),
                                static_cast<char>('a' + i % 26));
        out.append(piece);
        expected += piece;
        ASSERT_EQ(out.view(), expected);
        ASSERT_GE(out.capacity(), out.size());
    }
    EXPECT_EQ(out.bytes().size(), expected.size());
    out.clear();
    EXPECT_TRUE(out.empty());
    EXPECT_GT(out.capacity(), 0u);
}

TEST(OutBuffer, PrepareHandsOutRoomAndCommitKeepsOnlyWhatWasWritten) {
    d::out_buffer out;
    out.append("head:");
    char* p = out.prepare(100);
    EXPECT_GE(out.capacity() - out.size(), 100u);
    p[0] = '4';
    p[1] = '2';
    out.commit(2);
    out.append(";");
    EXPECT_EQ(out.view(), "head:42;");
}

TEST(OutBuffer, ReallocateShrinksToNoLessThanTheContent) {
    d::out_buffer out;
    out.reallocate(1 << 20);
    EXPECT_EQ(out.capacity(), std::size_t{1} << 20);
    out.append("kept bytes");
    out.reallocate(4);
    EXPECT_EQ(out.capacity(), 10u);
    EXPECT_EQ(out.view(), "kept bytes");
    out.clear();
    out.reallocate(0);
    EXPECT_EQ(out.capacity(), 0u);
    out.append("again");
    EXPECT_EQ(out.view(), "again");
}

}  // namespace
