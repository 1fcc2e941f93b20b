// Engine selection by name and kind: every name parses, and an engine a platform lacks is a clear
// error rather than a silent substitute.

#include <opensocket/backends/engine_select.hpp>
#include <opensocket/error.hpp>

#include <gtest/gtest.h>

using namespace opensocket;

TEST(engine_select, every_name_parses_and_prints_back) {
    for (engine_kind k : {engine_kind::automatic, engine_kind::epoll, engine_kind::uring,
                          engine_kind::select, engine_kind::kqueue}) {
        auto parsed = parse_engine_kind(to_string(k));
        ASSERT_TRUE(parsed) << to_string(k);
        EXPECT_EQ(*parsed, k);
    }
    EXPECT_EQ(parse_engine_kind("io_uring").value(), engine_kind::uring);
    EXPECT_EQ(parse_engine_kind("automatic").value(), engine_kind::automatic);
}

TEST(engine_select, unknown_names_are_refused) {
    for (const char* name : {"", "EPOLL", "iocp", "uring ", "poll"}) {
        auto parsed = parse_engine_kind(name);
        ASSERT_FALSE(parsed) << '"' << name << '"';
        EXPECT_EQ(parsed.error(), make_error_code(error::engine_unavailable));
    }
}

TEST(engine_select, select_is_available_everywhere) {
    auto e = make_engine(engine_kind::select);
    ASSERT_TRUE(e) << e.error().message();
    EXPECT_EQ((*e)->name(), "select");
}

TEST(engine_select, kqueue_is_available_exactly_where_the_platform_has_it) {
    auto e = make_engine(engine_kind::kqueue);
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
    defined(__DragonFly__)
    ASSERT_TRUE(e) << e.error().message();
    EXPECT_EQ((*e)->name(), "kqueue");
#else
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), make_error_code(error::engine_unavailable));
#endif
}

TEST(engine_select, epoll_is_available_exactly_on_linux) {
    auto e = make_engine(engine_kind::epoll);
#ifdef __linux__
    ASSERT_TRUE(e) << e.error().message();
    EXPECT_EQ((*e)->name(), "epoll");
#else
    ASSERT_FALSE(e);
#endif
}
