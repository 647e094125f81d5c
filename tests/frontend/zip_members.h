// Just enough ZIP for fuzzing TorchScript archives: read every member of an
// archive (stored or deflated, through the central directory, zlib for
// inflate) and write members back as a stored archive, so a mutation inside a
// member (code, pickle, tensor bytes) reaches LibTorch's readers with valid
// CRCs instead of failing the zip layer first.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stc::fuzztest {

using ZipMembers = std::vector<std::pair<std::string, std::string>>; // name, content

// Empty when `archive` is not a zip this reader understands.
ZipMembers readZipMembers(const std::string& archive);
std::string writeStoredZip(const ZipMembers& members);

} // namespace stc::fuzztest
