// runtime/internal.hpp — the one internal header of runtime/ that tests and fuzz harnesses may
// include, for white-box checks of the parts below the public API (runtime.hpp, spec.hpp): the
// state file, the seccomp compiler and the child's plan. Never included by other libraries
// (scripts/check-includes.py enforces it); runtime's own files include the parts directly.
#pragma once
#include "runtime/child_plan.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/state_store.hpp"
