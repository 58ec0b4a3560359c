// runtime/create.hpp — internal: create() with the pieces run() needs to watch the child past
// start (the sync socket reports an exec failure; EOF means the exec happened).
#pragma once
#include "base/fd.hpp"
#include "runtime/process.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime {

struct Created {
    State state;
    Child child;         // killed if dropped: call child.release() to let the container live on
    Fd sync;             // parent end of the sync socket
    std::string program; // process.args[0], to name it when its exec fails after start
};
// create() without the "create container <id>" prefix on errors.
Result<Created> create_container(const Options& options, const CreateOptions& co);
// exec() detached, handing back the exec'd process (our child) once it exec'd.
Result<Child> exec_child(const Options& options, const std::string& id, ExecOptions eo);

} // namespace berth::runtime
