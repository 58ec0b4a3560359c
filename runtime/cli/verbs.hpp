// runtime/cli/verbs.hpp — one function per runc verb, each in its own file; main.cpp parses the
// global flags and dispatches. Each verb parses its arguments, calls one runtime:: function,
// prints what runc prints, and returns the process exit code.
#pragma once
#include <span>
#include <string>
#include "runtime/cli/args.hpp"
#include "runtime/runtime.hpp"

namespace berth::cli {

using Args = std::span<const std::string>;
using Options = runtime::Options;

int create_main(const Options& options, Args args);
int start_main(const Options& options, Args args);
int run_main(const Options& options, Args args);
int state_main(const Options& options, Args args);
int list_main(const Options& options, Args args);
int kill_main(const Options& options, Args args);
int delete_main(const Options& options, Args args);
int exec_main(const Options& options, Args args);
int ps_main(const Options& options, Args args);
int pause_main(const Options& options, Args args);
int resume_main(const Options& options, Args args);
int spec_main(const Options& options, Args args);
int features_main(const Options& options, Args args);

// create and run share these flags and their meaning.
extern const Flag create_flags[6];
Result<runtime::CreateOptions> create_options_from(const Parsed& parsed);

// "/abs/path" for a path given relative to the caller's cwd ("" stays "").
std::string absolute_path(const std::string& path);
// Reads a --preserve-fds style unsigned count; false if it is not one.
bool parse_count(const std::string& text, unsigned& count);

} // namespace berth::cli
