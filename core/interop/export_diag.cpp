#include "interop/export_diag.h"

#include "ir/printer.h"

namespace stc::interop {

void opError(Diagnostics& d, const ir::Module& m, const ir::Op& op, const std::string& message)
{
    d.error(op.textLoc, ir::opLabel(m, op), message, op.origin);
}

void opWarning(Diagnostics& d, const ir::Module& m, const ir::Op& op, const std::string& message)
{
    d.warning(op.textLoc, ir::opLabel(m, op), message, op.origin);
}

void visitEveryOp(const ir::Module& m, const Diagnostics& d, const std::function<void(const ir::Op&)>& visit,
                  const std::function<void(const ir::Op&)>& failed)
{
    for (const ir::Op& op : m.ops()) {
        const size_t errorsBefore = d.errorCount();
        visit(op);
        if (d.errorCount() > errorsBefore)
            failed(op);
    }
}

std::string lowerFirstHint(const std::string& command)
{
    return "; lower it first (" + command + " -p \"fold-bn,canonicalize,dce\" or stc opt), or remove it from the model";
}

} // namespace stc::interop
