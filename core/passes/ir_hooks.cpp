// Default printer/verifier of the instruments: the Spike IR text printer and
// verifier.
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/instruments.h"

namespace stc::passes {

IrPrinter defaultIrPrinter()
{
    return [](const ir::Module& m) { return ir::printModule(m); };
}

IrVerifier defaultIrVerifier()
{
    return [](const ir::Module& m) { return ir::verify(m); };
}

} // namespace stc::passes
