// Everything a plugin author needs, in one include.
#pragma once

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/breaker.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/event_handler.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/exception_rule.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/input.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/plugin.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "crosscut/sdk/units.hpp"
#include "crosscut/sdk/value.hpp"
