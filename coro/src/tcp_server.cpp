#include <opensocket/log.hpp>
#include <opensocket/tcp_server.hpp>

namespace opensocket {

result<tcp_server> tcp_server::bind(runtime& rt, const socket_address& addr, server_options opts) {
    auto st = std::make_shared<state>();
    st->rt = &rt;
    // Without SO_REUSEPORT (Windows) one listener hands connections to every executor.
    st->mode = rt.size() == 1 || !detail::have_reuse_port ? accept_mode::handoff : opts.mode;
    st->counts = std::make_unique<std::atomic<uint64_t>[]>(rt.size());
    std::size_t listeners = st->mode == accept_mode::reuse_port ? rt.size() : 1;
    socket_address where = addr;
    if (listeners > 1) opts.listen.reuse_port = true;
    for (std::size_t i = 0; i < listeners; ++i) {
        auto l = tcp_listener::bind(where, opts.listen);
        if (!l) return fail(l.error());
        if (i == 0) {
            auto local = l->local_address();
            if (!local) return fail(local.error());
            st->local = *local;
            where.set_port(local->port());  // the others share the port the kernel picked
        }
        st->listeners.push_back(std::move(*l));
    }
    return tcp_server(std::move(st));
}

void tcp_server::start(handler h) {
    state_->on_connection = std::move(h);
    for (std::size_t i = 0; i < state_->listeners.size(); ++i)
        state_->rt->spawn_on(i, accept_loop(state_, i));
}

std::vector<uint64_t> tcp_server::accept_counts() const {
    std::vector<uint64_t> out(state_->rt->size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = state_->counts[i].load();
    return out;
}

task<> tcp_server::accept_loop(std::shared_ptr<state> st, std::size_t index) {
    tcp_listener& listener = st->listeners[index];
    std::size_t next = 0;
    for (;;) {
        auto conn = co_await listener.accept();
        if (!conn) {
            if (conn.error() != std::errc::operation_canceled)
                log_error("accept on {} stopped: {}", st->local.to_string(),
                          conn.error().message());
            break;
        }
        std::size_t target = index;
        if (st->mode == accept_mode::handoff) target = next++ % st->rt->size();
        executor& ex = st->rt->at(target);
        st->counts[target].fetch_add(1, std::memory_order_relaxed);
        // An unattached stream may move to another executor; it attaches on its first op there.
        spawn_on(ex, st->on_connection(std::move(*conn), ex));
    }
    listener.close();
}

}  // namespace opensocket
