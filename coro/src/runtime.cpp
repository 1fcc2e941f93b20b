#include <opensocket/log.hpp>
#include <opensocket/runtime.hpp>

#include <opensocket/detail/platform.hpp>

namespace opensocket {

runtime::runtime(runtime_options opts) {
    unsigned n =
        opts.threads != 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
        auto io = make_engine(opts.engine);
        if (!io) throw std::system_error(io.error(), "runtime: cannot create I/O engine");
        executors_.push_back(std::make_unique<executor>(std::move(*io), i));
        executors_.back()->set_spin_before_sleep(opts.spin_before_sleep);
    }
    log_info("runtime: {} executor(s) on the {} engine", n, engine_name());
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
        threads_.emplace_back([ex = executors_[i].get(), pin = opts.pin_threads, cpu = i % cores] {
            if (pin) (void)detail::pin_current_thread(cpu);  // best effort, as before
            ex->run();
        });
    }
}

runtime::~runtime() {
    stop();
    join();
}

void runtime::stop() noexcept {
    for (auto& ex : executors_) ex->request_stop();
}

void runtime::join() {
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

}  // namespace opensocket
