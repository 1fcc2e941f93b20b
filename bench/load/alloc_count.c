/* alloc_count: an LD_PRELOAD library that counts heap allocations, for bench/run's "heap
 * allocations per request". Every malloc, calloc, realloc, posix_memalign, aligned_alloc and
 * memalign adds one to a 64-bit counter kept in the file named by $ALLOC_COUNT_FILE, mapped
 * MAP_SHARED: bench/run reads it before and after a load window with no signal or pipe into the
 * server, and the worker processes nginx forks add to the same counter. Without the variable the
 * count goes nowhere. The allocation itself is glibc's (its exported __libc_* entry points), so
 * the server's behaviour is unchanged but for one atomic add per allocation. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* p, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void* p);

static _Atomic unsigned long long unshared_count;
static _Atomic unsigned long long* counter = &unshared_count;

__attribute__((constructor)) static void alloc_count_init(void) {
    const char* path = getenv("ALLOC_COUNT_FILE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    if (ftruncate(fd, sizeof(unsigned long long)) == 0) {
        void* p = mmap(NULL, sizeof(unsigned long long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) counter = p;
    }
    close(fd);
}

static inline void count_one(void) { atomic_fetch_add_explicit(counter, 1, memory_order_relaxed); }

void* malloc(size_t size) {
    count_one();
    return __libc_malloc(size);
}

void* calloc(size_t count, size_t size) {
    count_one();
    return __libc_calloc(count, size);
}

void* realloc(void* p, size_t size) {
    count_one();
    return __libc_realloc(p, size);
}

void free(void* p) { __libc_free(p); }

void* memalign(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
    if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count_one();
    void* p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
