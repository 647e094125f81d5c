// The package directory on disk (used by writePackage/readPackage): replacing
// an earlier package safely and moving the per-core blobs in parallel.
#pragma once

#include "target/package.h"

#include <string>
#include <vector>

namespace stc::target {

// Makes `dir` ready for a new package. A missing or empty directory is
// created; a directory holding a package (manifest.json of an stc.package
// format) has that manifest removed first (a half-written package has no
// manifest) and the blob-named files of its cores/ ("cores/N.bin") returned
// in `oldFiles`, to delete once the new blobs are written. Anything else is refused: files that are not a
// package's are never touched.
bool preparePackageDir(const std::string& dir, std::vector<std::string>* oldFiles, std::string* error);

// Deletes the old package's blobs that the new one did not overwrite.
void removeStaleFiles(const std::string& dir, const std::vector<std::string>& oldFiles,
                      const std::vector<std::string>& newFiles);

// Encodes and writes every core to dir/files[k] on `threads` threads (< 1:
// all); the first failure in core order is reported.
bool writeCoreBlobs(const std::vector<PackageCore>& cores, const std::string& dir,
                    const std::vector<std::string>& files, int threads, std::string* error);

// Reads and decodes dir/files[k] into cores[k] on `threads` threads.
bool readCoreBlobs(const std::string& dir, const std::vector<std::string>& files, int threads,
                   std::vector<PackageCore>& cores, std::string* error);

// Writes `text` to `path` through a temporary file and a rename.
bool writeFileAtomically(const std::string& path, const std::string& text);

} // namespace stc::target
