// Helpers of the target (mapping, network, slice analysis) tests: golden IR
// files, chip descriptors and extracted networks, fatal on failure.
#pragma once

#include "ir/ir_io.h"
#include "target/chip_descriptor.h"
#include "target/network_extract.h"

#include <QtGlobal>

#include <string>

namespace stc::target::testutil {

inline ir::Module loadGolden(const char* name)
{
    auto r = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/" + name);
    if (!r.ok())
        qFatal("%s", r.diagnostics.format().c_str());
    return std::move(*r.module);
}

inline ChipDescriptor chipNamed(const char* id)
{
    auto r = findChip(id);
    if (!r.chip)
        qFatal("%s", r.diagnostics.format().c_str());
    return *r.chip;
}

inline Network networkOf(const ir::Module& m, const ChipDescriptor& chip)
{
    auto r = extractNetwork(m, &chip);
    if (!r.ok())
        qFatal("%s", r.diagnostics.format().c_str());
    return std::move(r.network);
}

} // namespace stc::target::testutil
