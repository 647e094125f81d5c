// Internal to the netx exporter: the geometry of one layer's synapse (see netx_connect.cpp).
#pragma once

#include "interop/netx_export.h"

namespace stc::interop {

// Fills `layer` (type, shape, conv parameters, weightShape) and `weight` (our
// float weights, an average pool folded in) for `synapse` reading layer
// `sourceLayer`; appends the flatten layer netx needs before a dense layer
// reading a conv, and sets the input layer's shape. False after a located
// error at `at`.
bool netxConnect(const ir::Module& m, Diagnostics& d, const ir::Op& at, const ir::Op& synapse, int sourceLayer,
                 const NetxPool& pool, NetxNetwork& net, NetxLayer& layer, std::vector<double>& weight);

} // namespace stc::interop
