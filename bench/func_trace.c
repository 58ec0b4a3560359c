/* bench/func_trace.c — the -finstrument-functions hooks scripts/berthd-order.sh links into a
 * traced berthd: each function's first entry in berthd's own process is recorded once (its
 * address as an offset in the executable and the CLOCK_MONOTONIC time of that first call) and
 * written at exit to $FUNC_TRACE_OUT as "offset-hex ns" lines. Not part of any shipped binary.
 * Compiled without instrumentation. A child that shares berthd's memory (the CLONE_VM stage of
 * runtime/spawn.cpp and create) records into the same table, as it faults into the same page
 * tables; a forked child records into its own copy, which is never written out, as its page
 * tables are not berthd's. No locks, no allocation: the hooks run on every thread, in signal
 * handlers and in those children. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLOTS (1u << 18) /* a power of two well above berthd's ~40 000 functions */
#define NOTRACE __attribute__((no_instrument_function))

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static uintptr_t keys[SLOTS];
static uint64_t first_ns[SLOTS];
static long main_pid;

NOTRACE static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

NOTRACE void __cyg_profile_func_enter(void* fn, void* site)
{
    (void)site;
    const uintptr_t key = (uintptr_t)fn;
    uint32_t i = (uint32_t)((key >> 4) * 2654435761u) & (SLOTS - 1);
    for (;;) {
        const uintptr_t seen = __atomic_load_n(&keys[i], __ATOMIC_ACQUIRE);
        if (seen == key)
            return;
        if (seen == 0) {
            if (main_pid == 0)
                return; /* not traced (no FUNC_TRACE_OUT) */
            uintptr_t expected = 0;
            if (__atomic_compare_exchange_n(&keys[i], &expected, key, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                first_ns[i] = now_ns();
                return;
            }
            if (expected == key)
                return;
        }
        i = (i + 1) & (SLOTS - 1);
    }
}

NOTRACE void __cyg_profile_func_exit(void* fn, void* site)
{
    (void)fn;
    (void)site;
}

NOTRACE __attribute__((constructor(101))) static void start(void)
{
    if (getenv("FUNC_TRACE_OUT"))
        main_pid = syscall(SYS_getpid);
}

NOTRACE __attribute__((destructor(101))) static void dump(void)
{
    const char* out = getenv("FUNC_TRACE_OUT");
    if (!out || main_pid == 0 || syscall(SYS_getpid) != main_pid)
        return;
    FILE* f = fopen(out, "w");
    if (!f)
        return;
    for (uint32_t i = 0; i < SLOTS; ++i)
        if (keys[i] && first_ns[i])
            fprintf(f, "%lx %llu\n", (unsigned long)(keys[i] - (uintptr_t)__ehdr_start),
                    (unsigned long long)first_ns[i]);
    fclose(f);
}
