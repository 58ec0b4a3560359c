#include "runtime/cli/signals.hpp"
#include <signal.h>
#include <sys/signalfd.h>
#include <algorithm>
#include <cctype>
#include <string>
#include "base/strings.hpp"

namespace berth::cli {
namespace {

struct SignalName {
    std::string_view name;
    int number;
};

constexpr SignalName signal_names[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

std::optional<int> real_time(std::string_view name)
{
    const auto offset = [&](std::string_view base) -> std::optional<int> {
        if (name == base)
            return 0;
        if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base)
            return std::nullopt;
        const char sign = name[base.size()];
        const auto amount = parse_int<int>(name.substr(base.size() + 1));
        if ((sign != '+' && sign != '-') || !amount)
            return std::nullopt;
        return sign == '+' ? *amount : -*amount;
    };
    std::optional<int> number;
    if (auto min = offset("RTMIN"))
        number = SIGRTMIN + *min;
    else if (auto max = offset("RTMAX"))
        number = SIGRTMAX + *max;
    if (number && *number >= SIGRTMIN && *number <= SIGRTMAX)
        return number;
    return std::nullopt;
}

// Signals a foreground `run` or `exec` passes on to the container instead of dying from them.
constexpr int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

} // namespace

ForwardedSignals::ForwardedSignals()
{
    sigset_t set;
    sigemptyset(&set);
    for (const int s : forwarded)
        sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, &saved_);
    fd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

ForwardedSignals::~ForwardedSignals()
{
    ::sigprocmask(SIG_SETMASK, &saved_, nullptr);
}

std::optional<int> parse_signal(std::string_view text)
{
    if (auto number = parse_int<int>(text)) {
        if (*number < 0 || *number > SIGRTMAX) // 0: no signal, only the existence check (runc)
            return std::nullopt;
        return number;
    }
    std::string name(text);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (name.rfind("SIG", 0) == 0)
        name.erase(0, 3);
    for (const auto& signal : signal_names)
        if (signal.name == name)
            return signal.number;
    return real_time(name);
}

} // namespace berth::cli
