// The package directory on disk (used by writePackage/readPackage): replacing
// an earlier package safely and encoding/decoding the per-core blobs in parallel.
#pragma once

#include "target/package.h"

#include <functional>
#include <string>
#include <vector>

namespace stc::target {

// Makes `dir` ready for a new package. A missing or empty directory is
// created; a directory holding a package (manifest.json of an stc.package
// format) has that manifest removed first (a half-written package has no
// manifest) and the blob-named files of its cores/ ("cores/N.bin", written
// by stc.package/1 and /2) returned in `oldFiles`, to delete once the new
// blobs are written. Anything else is refused: files that are not a
// package's are never touched.
bool preparePackageDir(const std::string& dir, std::vector<std::string>* oldFiles, std::string* error);

// Whether `text` (a manifest.json) is an STC package's: its top-level
// "format" is "stc.package/..." (writePackage's layout is recognised without
// parsing the cores' entries; any other is parsed whole).
bool isPackageManifest(const std::string& text);

// Deletes the old package's blobs that the new one did not overwrite, and
// dir/cores when that leaves it empty.
void removeStaleFiles(const std::string& dir, const std::vector<std::string>& oldFiles,
                      const std::vector<std::string>& newFiles);

// Where a core's blob is stored: `bytes` bytes at `offset` of dir/file
// (stc.package/3: every core in one file), or, with bytes < 0, the whole file
// (stc.package/1 and /2: one file per core).
struct BlobRef {
    std::string file;
    int64_t offset = 0, bytes = -1;
};

// Encodes every core on `threads` threads (< 1: all) and writes the blobs in
// core order into the one file dir/file; refs[k] tells where core k is.
// Cores are encoded `chunk` at a time; with several threads a chunk is
// written while the next is encoded. The file does not depend on either.
// `placed`, when given, runs once every ref is known, while the last chunk
// may still be being written.
inline constexpr size_t kBlobChunk = 256;
bool writeCoreBlobs(const std::vector<PackageCore>& cores, const std::string& dir, const std::string& file,
                    int threads, std::vector<BlobRef>& refs, std::string* error, size_t chunk = kBlobChunk,
                    const std::function<void()>& placed = {});

// Reads and decodes every core's blob into cores[k] on `threads` threads; the
// first failure in core order is reported (naming the file, and the core of a
// shared file).
bool readCoreBlobs(const std::string& dir, const std::vector<BlobRef>& refs, int threads,
                   std::vector<PackageCore>& cores, std::string* error);

// Writes `text` to `path` through a temporary file and a rename.
bool writeFileAtomically(const std::string& path, const std::string& text);

} // namespace stc::target
