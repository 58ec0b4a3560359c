// agent/berthd/journal.cpp — berthd's log lines to the journal, natively, when systemd connected
// its stderr to journald (JOURNAL_STREAM names stderr's device and inode: systemd.exec(5)). Each
// line is one journal entry: MESSAGE (the message and its fields in logfmt, as on stderr),
// PRIORITY, and every field as a journal field of its own, so `journalctl -u berthd TASK_ARN=...`
// finds what berthd did with a task. Names follow Docker's journald driver where they mean the
// same: task -> TASK_ARN and TASK_ID, container -> CONTAINER_NAME (and CONTAINER_ID when it is
// a runtime id); other fields become
// BERTH_<NAME>. An entry journald refuses goes to stderr as text instead: never lost. Written
// with the native protocol directly (base/journal_native.hpp), not libsystemd: linking that
// cost berthd ~0.9 MB of RSS idle (docs/BENCHMARKS.md).
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>
#include "agent/berthd/berthd.hpp"
#include "base/files.hpp"
#include "base/journal_native.hpp"
#include "base/strings.hpp"

namespace berth::berthd {
namespace {

// Set once by log_to_journal() before any thread starts; sending on it is thread-safe.
std::optional<journal::JournalWriter>& journal_writer()
{
    static std::optional<journal::JournalWriter> writer;
    return writer;
}

int priority_of(log::Level level)
{
    switch (level) {
    case log::Level::Debug: return 7;
    case log::Level::Info: return 6;
    case log::Level::Warn: return 4;
    case log::Level::Error: return 3;
    }
    return 6;
}

const char* level_name(log::Level level)
{
    switch (level) {
    case log::Level::Debug: return "debug";
    case log::Level::Info: return "info";
    case log::Level::Warn: return "warning";
    case log::Level::Error: return "error";
    }
    return "info";
}

// Some lines name a container by its runtime id, "<task id (32 hex)>-<name>" (agent/daemon):
// then CONTAINER_ID is that id, CONTAINER_NAME the name, and TASK_ID the task's.
void add_container(std::vector<std::string>& out, const std::string& value, bool has_task)
{
    constexpr std::size_t id_length = 32;
    const bool runtime_id = value.size() > id_length + 1 && value[id_length] == '-' &&
                            value.find_first_not_of("0123456789abcdef") == id_length;
    if (!runtime_id) {
        out.push_back(cat("CONTAINER_NAME=", value));
        return;
    }
    out.push_back(cat("CONTAINER_ID=", value));
    out.push_back(cat("CONTAINER_NAME=", value.substr(id_length + 1)));
    if (!has_task)
        out.push_back(cat("TASK_ID=", value.substr(0, id_length)));
}

void write_entry(log::Level level, std::string_view message,
                 std::initializer_list<log::Field> fields)
{
    const auto entries = journal_fields(level, message, fields);
    const std::vector<std::string_view> views(entries.begin(), entries.end());
    if (journal_writer() && journal_writer()->send(views))
        return;
    std::string line = cat("level=", level_name(level), " msg=", log::logfmt_value(message));
    for (const auto& [key, value] : fields)
        line += cat(" ", key, "=", log::logfmt_value(value));
    (void)write_all(STDERR_FILENO, line + "\n");
}

} // namespace

std::vector<std::string> journal_fields(log::Level level, std::string_view message,
                                        std::initializer_list<log::Field> fields)
{
    std::string text(message);
    for (const auto& [key, value] : fields)
        text += cat(" ", key, "=", log::logfmt_value(value));
    std::vector<std::string> out = {cat("MESSAGE=", text),
                                    cat("PRIORITY=", std::to_string(priority_of(level))),
                                    "SYSLOG_IDENTIFIER=berthd"};
    bool has_task = false;
    for (const auto& field : fields)
        has_task = has_task || field.first == "task";
    for (const auto& [key, value] : fields) {
        if (key == "task") {
            out.push_back(cat("TASK_ARN=", value));
            const auto slash = value.rfind('/');
            out.push_back(
                cat("TASK_ID=", slash == std::string::npos ? value : value.substr(slash + 1)));
            continue;
        }
        if (key == "container") {
            add_container(out, value, has_task);
            continue;
        }
        // Journal field names: upper-case letters, digits and '_', not starting with '_'.
        std::string name = "BERTH_";
        for (const char ch : key)
            name += (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A')
                    : ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) ? ch
                                                                             : '_';
        out.push_back(cat(name, "=", value));
    }
    return out;
}

bool stderr_is_journal()
{
    const char* stream =
        std::getenv("JOURNAL_STREAM"); // NOLINT(concurrency-mt-unsafe): no thread yet
    if (stream == nullptr)
        return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) // NOLINT(cert-err34-c): both checked
        return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

void log_to_journal()
{
    auto writer = journal::JournalWriter::open();
    if (!writer) { // an unusable socket path cannot happen with the default; lines stay on stderr
        log::error(writer.error(), "cannot log to the journal, continuing on stderr");
        return;
    }
    journal_writer().emplace(std::move(*writer));
    log::set_sink(write_entry);
}

} // namespace berth::berthd
