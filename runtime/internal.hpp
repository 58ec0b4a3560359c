// runtime/internal.hpp — the one internal header of runtime/ that tests and fuzz harnesses may
// include, for white-box checks of the parts below the public API (runtime.hpp, spec.hpp): the
// state file, the exec markers, the seccomp compiler, the child's plan and the json-file log
// writer. Never included by other libraries (scripts/check-includes.py enforces it); runtime's own
// files include the parts directly.
#pragma once
#include "runtime/child_plan.hpp"
#include "runtime/exec_marker.hpp"
#include "runtime/journal_log.hpp"
#include "runtime/json_log.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/state_store.hpp"
