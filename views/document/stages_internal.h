// Helpers shared by the stage implementations (stages_target.cpp,
// stages_package.cpp); not for the panels.
#pragma once

#include "document/stages.h"
#include "floorplan/floorplan_data.h"
#include "ir/module.h"
#include "target/chip_descriptor.h"
#include "target/mapping.h"
#include "target/package.h"

#include <memory>
#include <vector>

namespace stc::views {

// The board, cores (positions, layers, static resources and utilization)
// and routes (paths) of a mapping; layers link to ops of `document` by value
// name. Energies, rates and the estimate's summary are left for the caller.
std::shared_ptr<FloorplanData> floorplanOfMapping(const target::Mapping& m, const target::ChipDescriptor& chip,
                                                  std::vector<FloorLayer> layers, const ir::Module* document);

// A package decoded for core/sim (null with `error` when it does not
// decode), labelled with its chip; coreUtilization from `m` (its placement).
std::shared_ptr<ChipPackage> chipPackageOf(const target::Package& pkg, const target::Mapping& m, std::string* error);

} // namespace stc::views
