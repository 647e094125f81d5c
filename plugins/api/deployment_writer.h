// Shared helper for backend plugins: writes a target's deployment description
// (docs/backends.md, "Deployment description"), a directory with
//   manifest.json  format, target, chip, pipeline, totals, layers, files
//   cores.json     one entry per used core: coordinates, label, slices, usage
//   chip.json      the descriptor text the mapping was made for
//   listing.txt    the human-readable summary and per-core table
// A plugin names its units (PE/QPE, NP/node) and adds its own fields per
// layer, per core and at the top level through the hooks.
#pragma once

#include "target/chip_descriptor.h"
#include "target/mapping.h"
#include "target/network.h"

#include <QJsonObject>
#include <QString>

#include <functional>
#include <string>

namespace stc::plugins {

struct DeploymentSpec {
    QString format;   // "stc.spinnaker2/1"
    QString target;   // "spinnaker2"
    QString coreUnit; // "PE"
    QString tileUnit; // "QPE"
    // Extra fields: top level of manifest.json, per layer (population), per core.
    std::function<void(QJsonObject&)> manifestExtra;
    std::function<void(int32_t pop, QJsonObject&)> layerExtra;
    std::function<void(size_t core, QJsonObject&)> coreExtra;
    // One extra text column per core in listing.txt.
    std::function<QString(size_t core)> coreListingExtra;
};

// The label of a core: "<tileUnit>(x,y).<coreUnit>c" (chip prefix when > 1 chip).
QString coreLabel(const DeploymentSpec& spec, const stc::target::CoreCoord& c, bool multiChip);

// Writes the directory (replacing an existing one only if it holds a
// manifest.json of the same format). Returns false and sets `error` on failure.
bool writeDeployment(const DeploymentSpec& spec, const stc::target::Network& net,
                     const stc::target::Mapping& mapping, const stc::target::ChipDescriptor& chip,
                     const std::string& pipeline, const std::string& outDir, std::string* listing,
                     std::string* error);

} // namespace stc::plugins
