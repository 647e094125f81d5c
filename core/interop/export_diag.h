// What every exporter of Spike IR to another format (NIR, lava-dl netx) does
// with ops the format cannot express: one located error per op (op label,
// value name, source location and origin), and the walk goes on so that the
// user sees all of them at once instead of fixing them one run at a time.
#pragma once

#include "ir/module.h"
#include "util/diagnostics.h"

#include <functional>
#include <string>

namespace stc::interop {

// The error/warning for `op`: located at its text position, labelled with the
// op and its value name, carrying its model-level origin.
void opError(Diagnostics& d, const ir::Module& m, const ir::Op& op, const std::string& message);
void opWarning(Diagnostics& d, const ir::Module& m, const ir::Op& op, const std::string& message);

// Calls `visit` for every op in order. When `visit` reported at least one
// error for an op, `failed` is called with it: the exporter records its result
// as a placeholder so that later ops using that value are still checked but do
// not report the same problem again.
void visitEveryOp(const ir::Module& m, const Diagnostics& d, const std::function<void(const ir::Op&)>& visit,
                  const std::function<void(const ir::Op&)>& failed);

// "; lower it first (<command> -p "fold-bn,canonicalize,dce" or stc opt), or remove it from the model"
std::string lowerFirstHint(const std::string& command);

} // namespace stc::interop
