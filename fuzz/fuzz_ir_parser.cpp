// libFuzzer entry point: parse + verify any bytes; print and re-parse what
// parsed. Traps on a crash (sanitizers), a parse failure without exactly one
// located error, or printed text that does not parse back to the same text.
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void require(bool ok)
{
    if (!ok)
        std::abort();
}

bool located(const stc::Diagnostics& d)
{
    for (const auto& item : d.items())
        if (item.severity == stc::Severity::Error && (item.loc.line < 1 || item.loc.col < 1))
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace stc::ir;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ParseResult r = parseModule(text, "fuzz.sir");
    if (!r.ok()) {
        require(r.diagnostics.errorCount() == 1 && located(r.diagnostics));
        return 0;
    }
    require(located(verify(*r.module, r.moduleLoc)));
    const std::string printed = printModule(*r.module);
    ParseResult again = parseModule(printed, "fuzz.sir");
    require(again.ok() && printModule(*again.module) == printed);
    return 0;
}
