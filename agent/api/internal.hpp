// agent/api/internal.hpp — the test-visible internals of agent/api: SigV4, the HTTP-independent
// request handler, ARN parsing, the response shapes. Tests and the fuzz harness include this;
// nothing else does.
#pragma once
#include "agent/api/arns.hpp"
#include "agent/api/context.hpp"
#include "agent/api/introspection.hpp"
#include "agent/api/metadata.hpp"
#include "agent/api/shapes.hpp"
#include "agent/api/sigv4.hpp"
