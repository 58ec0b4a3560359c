// agent/cli/exec_command.cpp — berth exec [-t] [-i] TASK CONTAINER CMD...: another process in a
// task's running container, through the runtime library on berthd's runtime root
// (<runtime_dir>/containers, id <task-id>-<container>), so it works while berthd is down. This
// process is the new process's parent and reaper (the runtime's in-process mode); its exit
// status is berth's. With -t it gets a pty (this terminal raw meanwhile, the window size passed
// on); signals to berth (INT, TERM, HUP, QUIT) go to the process.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include "agent/cli/cli.hpp"
#include "agent/cli/console.hpp"
#include "agent/cli/resolve.hpp"
#include "base/files.hpp"
#include "runtime/runtime.hpp"

namespace berth::cli {
namespace {

int fail(const Error& e)
{
    std::fprintf(stderr, "berth: %s\n", e.message().c_str());
    return 1;
}

int usage()
{
    std::fprintf(stderr, "usage: berth exec [-t] [-i] TASK CONTAINER CMD...\n");
    return 2;
}

struct ExecArgs {
    bool tty = false, interactive = false;
    std::string task, container;
    std::vector<std::string> command;
};

std::optional<ExecArgs> parse(const std::vector<std::string>& args)
{
    ExecArgs out;
    std::size_t i = 0;
    for (; i < args.size() && args[i].size() > 1 && args[i].front() == '-'; ++i) {
        const auto& a = args[i];
        if (a == "--tty")
            out.tty = true;
        else if (a == "--interactive")
            out.interactive = true;
        else if (a.find_first_not_of("ti", 1) == std::string::npos) // -t, -i, -ti, -it
            for (const char c : a.substr(1))
                (c == 't' ? out.tty : out.interactive) = true;
        else
            return std::nullopt;
    }
    if (args.size() < i + 3)
        return std::nullopt;
    out.task = args[i];
    out.container = args[i + 1];
    out.command.assign(args.begin() + static_cast<long>(i) + 2, args.end());
    return out;
}

// The task ids that have a runtime container named <task-id>-<container>.
Result<std::string> container_id(const runtime::Options& options, const ExecArgs& a)
{
    auto states = runtime::list(options);
    if (!states)
        return std::move(states).error().wrap(
            cat("list containers under ", berth::quoted(options.root)));
    std::vector<std::string> ids;
    ids.reserve(states->size());
    for (const auto& s : *states)
        ids.push_back(s.id);
    auto task = resolve_task(tasks_with_container(ids, a.container), task_id(a.task));
    if (!task)
        return std::move(task).error().wrap(cat("container ", berth::quoted(a.container)));
    return *task + "-" + a.container;
}

// Signals berth forwards, read from a signalfd; blocked while this object lives.
class Signals {
public:
    explicit Signals(bool window)
    {
        sigemptyset(&set_);
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
            sigaddset(&set_, s);
        if (window)
            sigaddset(&set_, SIGWINCH);
        ::sigprocmask(SIG_BLOCK, &set_, &saved_);
        fd_ = Fd(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
    }
    Signals(const Signals&) = delete;
    Signals& operator=(const Signals&) = delete;
    ~Signals() { ::sigprocmask(SIG_SETMASK, &saved_, nullptr); }
    int fd() const { return fd_.get(); }

private:
    sigset_t set_{}, saved_{};
    Fd fd_;
};

// Copies what is readable on from to to; false at end of input (EOF, EIO from a closed pty).
bool pump(int from, int to)
{
    char buffer[16 * 1024];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (n == 0)
        return false;
    (void)write_all(to, std::string_view(buffer, static_cast<std::size_t>(n)));
    return true;
}

// Until the process ends: terminal traffic, forwarded signals. Then its exit status.
Result<int> supervise(runtime::ProcessHandle& process, const Signals& signals, int master,
                      bool interactive)
{
    bool input_open = master >= 0 && interactive;
    bool output_open = master >= 0;
    for (;;) {
        pollfd fds[4] = {{process.wait_fd(), POLLIN, 0},
                         {signals.fd(), POLLIN, 0},
                         {output_open ? master : -1, POLLIN, 0},
                         {input_open ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 4, -1) < 0 && errno != EINTR)
            return Error::from_errno("poll");
        if ((fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
            output_open = pump(master, STDOUT_FILENO);
        if ((fds[3].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
            input_open = pump(STDIN_FILENO, master);
        signalfd_siginfo info{};
        while (::read(signals.fd(), &info, sizeof info) == sizeof info) {
            if (info.ssi_signo == SIGWINCH && master >= 0)
                copy_window_size(STDIN_FILENO, master);
            else
                (void)process.signal(static_cast<int>(info.ssi_signo));
        }
        if ((fds[0].revents & POLLIN) != 0) {
            if (output_open) { // what the process wrote last
                ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
                while (pump(master, STDOUT_FILENO)) {
                    pollfd more{master, POLLIN, 0};
                    if (::poll(&more, 1, 0) <= 0)
                        break;
                }
            }
            auto record = process.wait();
            if (!record)
                return std::move(record).error();
            return record->status();
        }
    }
}

Result<int> run_exec(const Globals& g, const ExecArgs& a)
{
    // As docker exec -t: a pty needs a terminal on our side to connect it to (and to make raw).
    if (a.tty && ::isatty(STDIN_FILENO) == 0)
        return Error::invalid("the input device is not a TTY (-t needs berth's stdin to be a "
                              "terminal; drop -t to pipe input with -i)");
    // A reader of our output that goes away (berth exec ... | head) must not kill berth with
    // SIGPIPE before it restores the terminal and reaps the process: a failed write is ignored
    // instead. The process itself starts with default dispositions (the runtime resets them).
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, nullptr);
    runtime::Options options;
    options.root = g.runtime_dir + "/containers";
    auto id = container_id(options, a);
    if (!id)
        return std::move(id).error();
    auto spec = runtime::stored_config(options, *id);
    if (!spec)
        return std::move(spec).error();
    runtime::ExecOptions eo;
    eo.process = spec->process.value_or(runtime::Process{});
    eo.process.args = a.command;
    eo.process.terminal = a.tty;
    if (a.tty) // the pty is made with our size: the process may ask before we could resize it
        if (winsize size{}; ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0)
            eo.process.console_size = runtime::ConsoleSize{size.ws_row, size.ws_col};
    Fd null_input;
    if (!a.interactive && !a.tty) { // as docker exec: no stdin unless -i
        null_input = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        eo.stdin_fd = null_input.get();
    }
    std::optional<ConsoleSocket> console;
    if (a.tty) {
        auto socket = ConsoleSocket::create();
        if (!socket)
            return std::move(socket).error();
        console.emplace(std::move(*socket));
        eo.console_socket = console->path();
    }
    const Signals signals(a.tty);
    auto container = runtime::Container::load(options, *id);
    if (!container)
        return std::move(container).error();
    auto process = container->exec(eo);
    if (!process)
        return std::move(process).error();
    Fd master;
    if (console) {
        auto received = console->receive(std::chrono::seconds(10));
        if (!received) {
            (void)process->signal(SIGKILL);
            (void)process->wait();
            return std::move(received).error();
        }
        master = std::move(*received);
        copy_window_size(STDIN_FILENO, master.get());
    }
    const RawTerminal raw(a.tty ? STDIN_FILENO : -1);
    return supervise(*process, signals, master.valid() ? master.get() : -1, a.interactive);
}

} // namespace

int cmd_exec(const Globals& g, const std::vector<std::string>& args)
{
    const auto parsed = parse(args);
    if (!parsed)
        return usage();
    auto status = run_exec(g, *parsed);
    if (!status)
        return fail(status.error());
    return *status;
}

} // namespace berth::cli
