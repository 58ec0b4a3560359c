// agent/cli/internal.hpp — the test-visible parts of the berth CLI: the berthd client, TASK
// resolution, table formatting and the json-file log reader. Tests include this; nothing else.
#pragma once
#include "agent/cli/cli.hpp"
#include "agent/cli/client.hpp"
#include "agent/cli/logs.hpp"
#include "agent/cli/resolve.hpp"
#include "agent/cli/table.hpp"
