// socket_address: parsing IPv4/IPv6 text, formatting it back, rejecting malformed input with
// an error code (never a crash), conversion from kernel sockaddrs, comparison and factories.

#include <opensocket/address.hpp>
#include <opensocket/error.hpp>

#include <gtest/gtest.h>

#ifdef _WIN32
#include <iphlpapi.h>  // if_nametoindex
#else
#include <net/if.h>
#endif
#include <cstring>
#include <string>
#include <string_view>

namespace {

using opensocket::socket_address;
namespace os = opensocket;

TEST(AddressParse, ParsesIpv4WithPort) {
    auto a = socket_address::parse("127.0.0.1:80");
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->family(), AF_INET);
    EXPECT_EQ(a->port(), 80);
    EXPECT_EQ(a->host_string(), "127.0.0.1");
}

TEST(AddressParse, ParsesBracketedIpv6WithPort) {
    auto a = socket_address::parse("[::1]:80");
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->family(), AF_INET6);
    EXPECT_EQ(a->port(), 80);
    EXPECT_EQ(a->host_string(), "::1");
}

TEST(AddressParse, ParsesNumericScopeId) {
    auto a = socket_address::parse("[fe80::1%1]:80");
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(a->is_v6());
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->native());
    EXPECT_EQ(sin6->sin6_scope_id, 1u);
    EXPECT_EQ(a->port(), 80);
}

TEST(AddressParse, ParsesInterfaceNameScopeId) {
    unsigned lo = if_nametoindex("lo");
    if (lo == 0) GTEST_SKIP() << "no loopback interface named 'lo' on this system";
    auto a = socket_address::parse("[fe80::1%lo]:80");
    ASSERT_TRUE(a) << a.error().message();
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->native());
    EXPECT_EQ(sin6->sin6_scope_id, lo);
}

TEST(AddressParse, ParsesPortZeroAndMaximum) {
    auto zero = socket_address::parse("1.2.3.4:0");
    auto max = socket_address::parse("1.2.3.4:65535");
    ASSERT_TRUE(zero);
    ASSERT_TRUE(max);
    EXPECT_EQ(zero->port(), 0);
    EXPECT_EQ(max->port(), 65535);
}

TEST(AddressParse, BareIpv4UsesDefaultPort) {
    auto a = socket_address::parse("10.0.0.1", 8080);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->port(), 8080);
    EXPECT_EQ(a->to_string(), "10.0.0.1:8080");
}

TEST(AddressParse, BareIpv6UsesDefaultPort) {
    auto a = socket_address::parse("::1", 443);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->port(), 443);
    EXPECT_EQ(a->to_string(), "[::1]:443");
}

TEST(AddressParse, BareBracketedIpv6UsesDefaultPort) {
    auto a = socket_address::parse("[2001:db8::7]", 9);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->port(), 9);
    EXPECT_EQ(a->to_string(), "[2001:db8::7]:9");
}

TEST(AddressParse, ExplicitPortWinsOverDefaultPort) {
    auto a = socket_address::parse("1.2.3.4:5", 6);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port(), 5);
}

TEST(AddressParse, BareIpv6WithTrailingGroupIsAnAddressNotAPort) {
    // "::1:80" has several colons: it is the bare address ::1:80, never ::1 with port 80.
    auto a = socket_address::parse("::1:80", 7);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->port(), 7);
    auto expected = socket_address::parse("[0:0:0:0:0:0:1:80]:7");
    ASSERT_TRUE(expected);
    EXPECT_EQ(*a, *expected);
}

TEST(AddressFormat, RoundTripsIpv4) {
    auto a = socket_address::parse("192.168.10.20:8080");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "192.168.10.20:8080");
}

TEST(AddressFormat, RoundTripsIpv6) {
    auto a = socket_address::parse("[2001:db8::1]:65535");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "[2001:db8::1]:65535");
}

TEST(AddressFormat, RoundTripsIpv6WithScopeId) {
    auto a = socket_address::parse("[fe80::1%1]:80");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "[fe80::1%1]:80");
}

TEST(AddressFormat, FormattedTextParsesToAnEqualAddress) {
    for (const char* text : {"127.0.0.1:1", "[::1]:2", "[fe80::abcd%3]:4", "0.0.0.0:0", "[::]:5"}) {
        auto a = socket_address::parse(text);
        ASSERT_TRUE(a) << text;
        auto b = socket_address::parse(a->to_string());
        ASSERT_TRUE(b) << a->to_string();
        EXPECT_EQ(*a, *b) << text;
    }
}

TEST(AddressFormat, V4MappedIpv6PrintsDottedQuad) {
    auto a = socket_address::parse("[::ffff:1.2.3.4]:80");
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->to_string(), "[::ffff:1.2.3.4]:80");
}

TEST(AddressFormat, CompressesIpv6Zeros) {
    auto a = socket_address::parse("[2001:0db8:0000:0000:0000:0000:0000:0001]:1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "[2001:db8::1]:1");
}

// --- malformed input -------------------------------------------------------------------------

void expect_error(std::string_view text, os::error expected, int default_port = -1) {
    auto a = socket_address::parse(text, default_port);
    ASSERT_FALSE(a) << "'" << text << "' parsed as " << a->to_string();
    EXPECT_EQ(a.error(), expected) << "'" << text << "': " << a.error().message();
}

TEST(AddressParse, RejectsEmptyText) {
    auto a = socket_address::parse("");
    ASSERT_FALSE(a);
    EXPECT_TRUE(a.error() == os::error::invalid_address || a.error() == os::error::invalid_port)
        << a.error().message();
}

TEST(AddressParse, RejectsEmptyTextEvenWithDefaultPort) {
    expect_error("", os::error::invalid_address, 80);
}

TEST(AddressParse, RejectsLoneColon) { expect_error(":", os::error::invalid_port); }

TEST(AddressParse, RejectsLoneColonWithDefaultPort) {
    auto a = socket_address::parse(":", 80);
    EXPECT_FALSE(a);
}

TEST(AddressParse, RejectsMissingPortAfterColon) {
    expect_error("1.2.3.4:", os::error::invalid_port);
}

TEST(AddressParse, RejectsPortAbove65535) {
    expect_error("1.2.3.4:65536", os::error::invalid_port);
}

TEST(AddressParse, RejectsHugePort) {
    expect_error("1.2.3.4:99999999999999999999", os::error::invalid_port);
}

TEST(AddressParse, RejectsNegativePort) { expect_error("1.2.3.4:-1", os::error::invalid_port); }

TEST(AddressParse, RejectsPortWithTrailingGarbage) {
    expect_error("1.2.3.4:8x", os::error::invalid_port);
}

TEST(AddressParse, RejectsPortWithLeadingPlusOrSpace) {
    expect_error("1.2.3.4:+8", os::error::invalid_port);
    expect_error("1.2.3.4: 8", os::error::invalid_port);
}

TEST(AddressParse, RejectsUnclosedBracket) { expect_error("[::1", os::error::invalid_address); }

TEST(AddressParse, RejectsGarbageAfterBracket) {
    expect_error("[::1]x", os::error::invalid_address);
}

TEST(AddressParse, RejectsEmptyPortAfterBracket) {
    expect_error("[::1]:", os::error::invalid_port);
}

TEST(AddressParse, RejectsEmptyBrackets) { expect_error("[]:80", os::error::invalid_address); }

TEST(AddressParse, RejectsIpv4InsideBrackets) {
    expect_error("[1.2.3.4]:80", os::error::invalid_address);
}

TEST(AddressParse, RejectsAmbiguousBareIpv6WithoutDefaultPort) {
    auto a = socket_address::parse("::1:80");
    ASSERT_FALSE(a) << "parsed as " << a->to_string();
    EXPECT_TRUE(a.error() == os::error::invalid_address || a.error() == os::error::invalid_port)
        << a.error().message();
}

TEST(AddressParse, RejectsBareAddressWithoutDefaultPort) {
    expect_error("1.2.3.4", os::error::invalid_port);
}

TEST(AddressParse, RejectsOutOfRangeDefaultPort) {
    EXPECT_FALSE(socket_address::parse("1.2.3.4", 65536));
}

TEST(AddressParse, RejectsIpv4OctetAbove255) {
    expect_error("256.1.1.1:1", os::error::invalid_address);
}

TEST(AddressParse, RejectsShortIpv4) { expect_error("1.2.3:1", os::error::invalid_address); }

TEST(AddressParse, RejectsHostNames) {
    expect_error("hostname:80", os::error::invalid_address);
    expect_error("localhost:80", os::error::invalid_address);
}

TEST(AddressParse, RejectsMalformedIpv6) {
    expect_error("[1::2::3]:80", os::error::invalid_address);
    expect_error("[12345::1]:80", os::error::invalid_address);
}

TEST(AddressParse, RejectsEmptyScopeId) {
    expect_error("[fe80::1%]:80", os::error::invalid_address);
}

TEST(AddressParse, RejectsUnknownScopeName) {
    expect_error("[fe80::1%no-such-if0]:80", os::error::invalid_address);
}

TEST(AddressParse, RejectsScopeIdOverflow) {
    expect_error("[fe80::1%99999999999]:80", os::error::invalid_address);
}

TEST(AddressParse, RejectsVeryLongHostWithPort) {
    std::string text(1000, '1');
    text += ":80";
    expect_error(text, os::error::invalid_address);
}

TEST(AddressParse, RejectsVeryLongBracketedHost) {
    std::string text = "[" + std::string(1000, 'a') + "]:80";
    expect_error(text, os::error::invalid_address);
}

TEST(AddressParse, RejectsThousandCharacterString) {
    std::string text(1000, 'x');
    auto a = socket_address::parse(text, 80);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), os::error::invalid_address);
}

TEST(AddressParse, RejectsEmbeddedNulInHost) {
    // The text is "127.0.0.1<NUL>junk:80": the bytes after the NUL are part of the host and
    // make it invalid, whatever a C string view of it would say.
    constexpr std::string_view text("127.0.0.1\0junk:80", 17);
    expect_error(text, os::error::invalid_address);
}

TEST(AddressParse, RejectsEmbeddedNulInBareHost) {
    constexpr std::string_view text("::1\0zz", 6);
    expect_error(text, os::error::invalid_address, 80);
}

TEST(AddressErrors, MessagesAreNonEmptyAndNameTheExpectedFormat) {
    auto bad_addr = socket_address::parse("hostname:80");
    auto bad_port = socket_address::parse("1.2.3.4:65536");
    ASSERT_FALSE(bad_addr);
    ASSERT_FALSE(bad_port);
    std::string addr_msg = bad_addr.error().message();
    std::string port_msg = bad_port.error().message();
    EXPECT_FALSE(addr_msg.empty());
    EXPECT_FALSE(port_msg.empty());
    EXPECT_NE(addr_msg.find("expected"), std::string::npos) << addr_msg;
    EXPECT_NE(addr_msg.find("port"), std::string::npos) << addr_msg;
    EXPECT_NE(port_msg.find("expected"), std::string::npos) << port_msg;
    EXPECT_NE(port_msg.find("65535"), std::string::npos) << port_msg;
}

// --- from_native -----------------------------------------------------------------------------

TEST(AddressFromNative, AcceptsSockaddrIn) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(1234);
    ASSERT_EQ(inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr), 1);
    auto a = socket_address::from_native(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->to_string(), "10.1.2.3:1234");
    EXPECT_EQ(a->native_size(), sizeof sin);
}

TEST(AddressFromNative, AcceptsSockaddrIn6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(4321);
    sin6.sin6_addr = in6addr_loopback;
    auto a = socket_address::from_native(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(*a, socket_address::loopback_v6(4321));
}

TEST(AddressFromNative, NativeRoundTripsThroughFromNative) {
    auto a = socket_address::parse("[fe80::2%1]:99");
    ASSERT_TRUE(a);
    auto b = socket_address::from_native(a->native(), a->native_size());
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
}

TEST(AddressFromNative, RejectsUnixSockets) {
    sockaddr_storage sun{};  // an AF_UNIX address (no <sys/un.h> needed: only the family counts)
    sun.ss_family = AF_UNIX;
    auto a = socket_address::from_native(reinterpret_cast<const sockaddr*>(&sun), sizeof sun);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), std::errc::address_family_not_supported);
}

TEST(AddressFromNative, RejectsTruncatedLength) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    auto a =
        socket_address::from_native(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sockaddr_in));
    EXPECT_FALSE(a);
}

TEST(AddressFromNative, RejectsNull) {
    auto a = socket_address::from_native(nullptr, 0);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), std::errc::invalid_argument);
}

// --- equality and factories ------------------------------------------------------------------

TEST(AddressEquality, SameTextGivesEqualAddresses) {
    EXPECT_EQ(*socket_address::parse("1.2.3.4:5"), *socket_address::parse("1.2.3.4:5"));
    EXPECT_EQ(*socket_address::parse("[::1]:5"), *socket_address::parse("[0:0::1]:5"));
}

TEST(AddressEquality, DifferentPortsAreNotEqual) {
    EXPECT_FALSE(*socket_address::parse("1.2.3.4:5") == *socket_address::parse("1.2.3.4:6"));
}

TEST(AddressEquality, DifferentHostsAreNotEqual) {
    EXPECT_FALSE(*socket_address::parse("1.2.3.4:5") == *socket_address::parse("1.2.3.5:5"));
}

TEST(AddressEquality, DifferentScopeIdsAreNotEqual) {
    EXPECT_FALSE(*socket_address::parse("[fe80::1%1]:5") ==
                 *socket_address::parse("[fe80::1%2]:5"));
}

TEST(AddressEquality, V4AndV6LoopbackAreNotEqual) {
    EXPECT_FALSE(socket_address::loopback_v4(80) == socket_address::loopback_v6(80));
}

TEST(AddressEquality, SetPortChangesEquality) {
    auto a = socket_address::loopback_v4(1);
    a.set_port(2);
    EXPECT_EQ(a.port(), 2);
    EXPECT_EQ(a, socket_address::loopback_v4(2));
}

TEST(AddressFactories, LoopbackV4) {
    auto a = socket_address::loopback_v4(8080);
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.port(), 8080);
    EXPECT_EQ(a.to_string(), "127.0.0.1:8080");
    EXPECT_EQ(a, *socket_address::parse("127.0.0.1:8080"));
}

TEST(AddressFactories, LoopbackV6) {
    auto a = socket_address::loopback_v6(8080);
    EXPECT_TRUE(a.is_v6());
    EXPECT_EQ(a.port(), 8080);
    EXPECT_EQ(a.to_string(), "[::1]:8080");
    EXPECT_EQ(a, *socket_address::parse("[::1]:8080"));
}

TEST(AddressFactories, AnyV4) {
    auto a = socket_address::any_v4(53);
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.port(), 53);
    EXPECT_EQ(a.to_string(), "0.0.0.0:53");
}

TEST(AddressFactories, AnyV6) {
    auto a = socket_address::any_v6(53);
    EXPECT_TRUE(a.is_v6());
    EXPECT_EQ(a.port(), 53);
    EXPECT_EQ(a.to_string(), "[::]:53");
}

TEST(AddressFactories, DefaultPortsAreZero) {
    EXPECT_EQ(socket_address::loopback_v4().port(), 0);
    EXPECT_EQ(socket_address::loopback_v6().port(), 0);
    EXPECT_EQ(socket_address::any_v4().port(), 0);
    EXPECT_EQ(socket_address::any_v6().port(), 0);
}

TEST(AddressFactories, DefaultConstructedIsAnyV4PortZero) {
    socket_address a;
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a, socket_address::any_v4(0));
    EXPECT_EQ(a.to_string(), "0.0.0.0:0");
}

TEST(AddressFactories, NativeSizeMatchesFamily) {
    EXPECT_EQ(socket_address::loopback_v4().native_size(), sizeof(sockaddr_in));
    EXPECT_EQ(socket_address::loopback_v6().native_size(), sizeof(sockaddr_in6));
    EXPECT_EQ(socket_address::loopback_v4().native()->sa_family, AF_INET);
    EXPECT_EQ(socket_address::loopback_v6().native()->sa_family, AF_INET6);
}

}  // namespace
